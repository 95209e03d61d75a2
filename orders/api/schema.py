"""OpenAPI (drf-spectacular) extensions: authentication, route aliases and operation ids.

The document is what clients are generated from, so each operation has one
readable `operationId` and each path is written as clients call it (no
trailing slash, though the server accepts one).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from orders.api.inputs import StrictSerializer
from orders.api.patterns import NOT_BLANK

# Seed 000–002 clients post refunds to …/refund; it is served beside …/refunds and
# documented once, on the shorthand route.
REFUND_ALIAS_SUFFIX = "/refund"


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.auth.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerAuth", "ApiKeyQuery"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "query", "name": "api_key"},
        ]


def document_routes(endpoints, **kwargs):
    """The routes as the document shows them: /api/… (seed 004's repeat of the /v1
    shorthand) and the store-scoped spelling of the seed alias …/refund left out (it is
    documented once, on the shorthand the seeds use), trailing slashes dropped."""
    documented = []
    for path, path_regex, method, callback in endpoints:
        if path.startswith("/api/") or (
            "{store_id}" in path and path.rstrip("/").endswith(REFUND_ALIAS_SUFFIX)
        ):
            continue
        path = path.rstrip("/")
        documented.append((path, path_regex, method, callback))
    return documented


class OrdoAutoSchema(AutoSchema):
    """Operation ids from each view's `operation_ids` (by method) or `operation_name`,
    prefixed `store_` on the store-scoped routes, so /v1/orders and
    /v1/stores/{store_id}/orders get distinct, readable ids."""

    def get_operation_id(self):
        names = getattr(self.view, "operation_ids", None)
        name = names.get(self.method) if names else getattr(self.view, "operation_name", None)
        if name is None:
            return super().get_operation_id()
        if self.path.endswith(REFUND_ALIAS_SUFFIX):
            return f"{name}_alias"
        if "{store_id}" not in self.path:
            return name
        if name.startswith("store_"):  # the store itself: /v1/stores/{store_id} is stores_…
            return name.replace("store_", "stores_", 1)
        return f"store_{name}"

    def _map_basic_serializer(self, serializer, direction):
        """A request body that refuses unknown fields says so (additionalProperties: false),
        and one that must change something says how many fields it needs at least."""
        schema = super()._map_basic_serializer(serializer, direction)
        cls = _class_of(serializer)
        if not cls.__dict__.get("__doc__"):
            schema.pop("description", None)  # not StrictSerializer's own docstring
        if direction == "request" and issubclass(cls, StrictSerializer):
            schema["additionalProperties"] = False
            if cls.min_properties:
                schema["minProperties"] = cls.min_properties
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        # A body that must carry some field (PATCH) is itself required: no body is a 400.
        schema, required = super()._get_request_for_media_type(serializer, direction)
        cls = _class_of(serializer)
        if issubclass(cls, StrictSerializer) and cls.min_properties:
            required = True
        return schema, required

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Rules DRF enforces that drf-spectacular leaves out: a list that may not be empty
        or too long, and text that may not be only spaces (DRF trims it first)."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or "$ref" in schema:
            return schema
        if isinstance(field, serializers.ListSerializer | serializers.ListField):
            if not field.allow_empty:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
            if getattr(field, "max_length", None) is not None:
                schema["maxItems"] = field.max_length
        elif (
            type(field) is serializers.CharField
            and field.trim_whitespace
            and not field.allow_blank
            and "pattern" not in schema
        ):
            schema["pattern"] = NOT_BLANK
        return schema

    def get_summary(self):
        summary = super().get_summary()
        if self.path.endswith(REFUND_ALIAS_SUFFIX):
            return f"{summary} (seed alias of POST …/refunds)"
        return summary


def _class_of(serializer) -> type:
    """drf-spectacular passes serializer classes and instances alike."""
    return serializer if isinstance(serializer, type) else type(serializer)
