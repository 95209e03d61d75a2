"""OpenAPI (drf-spectacular) extensions for Ordo's authentication and route aliases."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.auth.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "ApiKeyQuery"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "apiKey", "in": "query", "name": "api_key"},
        ]


def drop_alias_routes(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/api/")]


class OrdoAutoSchema(AutoSchema):
    """Operation ids from each view's `operation_name`, prefixed on the store-scoped routes,
    so /v1/orders and /v1/stores/{store_id}/orders get distinct, readable ids."""

    def get_operation_id(self):
        name = getattr(self.view, "operation_name", None)
        if name is None:
            return super().get_operation_id()
        return f"store_{name}" if "{store_id}" in self.path else name
