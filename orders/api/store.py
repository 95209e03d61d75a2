"""The store an API key acts on (DESIGN.md "The store"): its name, currency, time zone and
plan, so an integrator knows which day a bare date means and which features it may use."""

import hashlib
import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api import docs
from orders.api.base import StoreScopedView
from orders.api.fields import PublicIdField, TimestampField
from orders.api.params import AUTH_PARAMETERS, check_parameters
from orders.api.serializers import ObjectTypeField
from orders.models import Scope, Store


class StoreSerializer(serializers.Serializer):
    object = ObjectTypeField("store")
    id = PublicIdField(Store.PUBLIC_ID_PREFIX)
    name = serializers.CharField()
    currency = serializers.CharField(help_text="ISO 4217 code of every amount of the store.")
    timezone = serializers.CharField(
        help_text="IANA time zone in which a bare YYYY-MM-DD filter date is a whole day."
    )
    plan = serializers.ChoiceField(choices=Store.Plan.choices)
    created_at = TimestampField()


# Built once, so both routes share one component.
STORE_RESPONSE = docs.object_response(StoreSerializer)


def store_etag(data: dict) -> str:
    """A strong ETag of the store as rendered: it changes exactly when what the client
    sees does (a store row has no updated_at to derive it from)."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return f'"{digest[:20]}"'


class StoreView(StoreScopedView):
    """GET /v1/store (the key's own store) and GET /v1/stores/{store_id} (404 for any
    other id, like every store-scoped route)."""

    operation_name = "store_retrieve"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="The API key's store: currency, time zone and plan",
        parameters=[docs.IF_NONE_MATCH],
        responses={200: STORE_RESPONSE, **docs.NOT_MODIFIED, **docs.ERRORS},
    )
    def get(self, request: Request, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = StoreSerializer(self.store).data
        return Response({"data": data}, headers={"ETag": store_etag(data)})
