"""The webhooks API (DESIGN.md "Events and webhooks"): endpoints, their secrets, the
delivery log, retries and replays. Scope `manage:webhooks`, premium plan.

Each view parses, calls one selector or service of the webhooks app, and renders.
"""

import time

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api import docs
from orders.api.base import StoreScopedView, validated
from orders.api.idempotent import idempotent
from orders.api.pagination import PAGING_PARAMETERS, paged_list_body
from orders.api.params import AUTH_PARAMETERS, check_parameters
from orders.api.patterns import one_of_pattern
from orders.exceptions import InvalidParameters
from orders.models import Scope
from orders.plans import WEBHOOKS, require_feature
from orders.selectors import SortKey
from webhooks import selectors, services
from webhooks.api.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookReplayInputSerializer,
    WebhookReplaySerializer,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint

ENDPOINT_LIST_PARAMETERS = AUTH_PARAMETERS | PAGING_PARAMETERS
DELIVERY_LIST_PARAMETERS = ENDPOINT_LIST_PARAMETERS | {"status"}

ENDPOINT_ID = docs.path_id("endpoint_id", WebhookEndpoint.PUBLIC_ID_PREFIX)
DELIVERY_ID = docs.path_id("delivery_id", WebhookDelivery.PUBLIC_ID_PREFIX)
# Built once each: two components of one name would make drf-spectacular warn.
ENDPOINT_RESPONSE = docs.object_response(WebhookEndpointSerializer)
ENDPOINT_WITH_SECRET_RESPONSE = docs.object_response(WebhookEndpointWithSecretSerializer)
DELIVERY_RESPONSE = docs.object_response(WebhookDeliverySerializer)
DELIVERY_STATUS_PARAMETER = docs.query_parameter(
    "status",
    "Only the deliveries in this state: pending (waiting or being retried), succeeded or "
    "failed (retries exhausted; retry or replay them).",
    {"type": "string", "pattern": one_of_pattern(WebhookDelivery.Status.values)},
)


class WebhookView(StoreScopedView):
    """A webhooks route: the `manage:webhooks` scope, and a plan that includes webhooks.
    A free store is told so on every route, reads too, so it learns to upgrade rather
    than seeing an empty list; only DELETE is left to it, so a store moved to the free
    plan can still remove what it no longer gets."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "DELETE":
            require_feature(store=self.store, feature=WEBHOOKS)


class EndpointScopedView(WebhookView):
    """A route of one endpoint (`…/webhook-endpoints/{endpoint_id}…`): another store's
    endpoint is a 404 like a missing one."""

    endpoint: WebhookEndpoint

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.endpoint = selectors.endpoint_get(store=self.store, endpoint_id=kwargs["endpoint_id"])


class DeliveryScopedView(WebhookView):
    delivery: WebhookDelivery

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.delivery = selectors.delivery_get(store=self.store, delivery_id=kwargs["delivery_id"])


def _page_response(
    rows: QuerySet, params: dict[str, str], *, sort: SortKey, shape, filters: dict, started: float
) -> Response:
    """One page of `rows` (in `sort` order) in the list envelope."""
    body = paged_list_body(
        rows,
        params,
        sort=sort,
        render=lambda page_rows: shape(page_rows, many=True).data,
        filters=filters,
        sort_label=sort.label,
        started=started,
    )
    return Response(body)


def _no_body(request: Request) -> None:
    """Refuse a body on an action that takes none: a field sent there was meant for
    another route, and ignoring it would let the client believe it was used."""
    if request.data not in (None, {}, b"", ""):
        raise InvalidParameters({"body": "This action takes no request body; send none."})


class WebhookEndpointListView(WebhookView):
    """The store's webhook endpoints (GET), and a new one (POST), whose signing secret is
    shown in the 201 only."""

    operation_ids = {"GET": "webhook_endpoints_list", "POST": "webhook_endpoints_create"}
    required_scopes = {"GET": Scope.MANAGE_WEBHOOKS, "POST": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="List webhook endpoints",
        parameters=docs.PAGING_DOC_PARAMETERS,
        responses={
            200: docs.paged_list_response(WebhookEndpointSerializer, "WebhookEndpointList"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, store_id: str | None = None) -> Response:
        started = time.perf_counter()
        params = check_parameters(request.query_params, allowed=ENDPOINT_LIST_PARAMETERS)
        return _page_response(
            selectors.endpoints_of(store=self.store),
            params,
            sort=selectors.ENDPOINTS_NEWEST_FIRST,
            shape=WebhookEndpointSerializer,
            filters={},
            started=started,
        )

    @extend_schema(
        summary="Register a webhook endpoint (its secret is shown once)",
        request=WebhookEndpointCreateSerializer,
        parameters=[docs.IDEMPOTENCY_KEY],
        responses={201: ENDPOINT_WITH_SECRET_RESPONSE, **docs.WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(WebhookEndpointCreateSerializer, request.data)
        endpoint, _ = services.endpoint_create(
            store=self.store,
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
        )
        location = f"/v1/stores/{self.store.public_id}/webhook-endpoints/{endpoint.public_id}"
        return Response(
            {"data": WebhookEndpointWithSecretSerializer(endpoint).data},
            status=201,
            headers={"Location": location},
        )


class WebhookEndpointDetailView(EndpointScopedView):
    operation_ids = {
        "GET": "webhook_endpoints_retrieve",
        "PATCH": "webhook_endpoints_partial_update",
        "DELETE": "webhook_endpoints_destroy",
    }
    required_scopes = {
        "GET": Scope.MANAGE_WEBHOOKS,
        "PATCH": Scope.MANAGE_WEBHOOKS,
        "DELETE": Scope.MANAGE_WEBHOOKS,
    }

    @extend_schema(
        summary="Get one webhook endpoint",
        parameters=[ENDPOINT_ID],
        responses={200: ENDPOINT_RESPONSE, **docs.ERRORS},
    )
    def get(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        return Response({"data": WebhookEndpointSerializer(self.endpoint).data})

    @extend_schema(
        summary="Change a webhook endpoint's URL, events, description or status",
        request=WebhookEndpointUpdateSerializer,
        parameters=[ENDPOINT_ID],
        responses={200: ENDPOINT_RESPONSE, **docs.WRITE_ERRORS},
    )
    def patch(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(WebhookEndpointUpdateSerializer, request.data)
        endpoint = services.endpoint_update(
            store=self.store,
            endpoint=self.endpoint,
            url=data.get("url"),
            events=data.get("events"),
            description=data.get("description"),
            status=data.get("status"),
        )
        return Response({"data": WebhookEndpointSerializer(endpoint).data})

    @extend_schema(
        summary="Delete a webhook endpoint and its delivery log",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={204: None, **docs.ERRORS},
    )
    def delete(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        services.endpoint_delete(store=self.store, endpoint=self.endpoint)
        return Response(status=204)


class WebhookEndpointRotateSecretView(EndpointScopedView):
    """A new signing secret; the old one keeps signing beside it for 24 hours, so the
    receiver can switch without missing a delivery."""

    operation_name = "webhook_endpoints_rotate_secret"
    required_scopes = {"POST": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="Rotate a webhook endpoint's signing secret (the new one is shown once)",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: ENDPOINT_WITH_SECRET_RESPONSE, **docs.WRITE_ERRORS},
    )
    def post(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        _no_body(request)
        endpoint, _ = services.endpoint_rotate_secret(store=self.store, endpoint=self.endpoint)
        return Response({"data": WebhookEndpointWithSecretSerializer(endpoint).data})


def _delivery_status(params: dict[str, str]) -> str | None:
    if "status" not in params:
        return None
    status = params["status"].strip().lower()
    if status not in WebhookDelivery.Status.values:
        raise InvalidParameters(
            {
                "status": (
                    f"status must be one of {', '.join(WebhookDelivery.Status.values)}; got "
                    f"'{params['status']}'."
                )
            }
        )
    return status


class WebhookEndpointDeliveriesView(EndpointScopedView):
    """The endpoint's delivery log, newest first."""

    operation_name = "webhook_endpoints_deliveries_list"
    required_scopes = {"GET": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="List an endpoint's deliveries",
        parameters=[ENDPOINT_ID, DELIVERY_STATUS_PARAMETER, *docs.PAGING_DOC_PARAMETERS],
        responses={
            200: docs.paged_list_response(WebhookDeliverySerializer, "WebhookDeliveryList"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        started = time.perf_counter()
        params = check_parameters(request.query_params, allowed=DELIVERY_LIST_PARAMETERS)
        status = _delivery_status(params)
        deliveries = selectors.deliveries_of(
            store=self.store, endpoint=self.endpoint, status=status
        )
        return _page_response(
            deliveries,
            params,
            sort=selectors.DELIVERIES_NEWEST_FIRST,
            shape=WebhookDeliverySerializer,
            filters={} if status is None else {"status": status},
            started=started,
        )


class WebhookEndpointReplayView(EndpointScopedView):
    """Queue again the endpoint's deliveries since a time (the failed ones by default),
    oldest first, each order's in the order its events happened."""

    operation_name = "webhook_endpoints_replay"
    required_scopes = {"POST": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="Replay an endpoint's deliveries since a time",
        request=WebhookReplayInputSerializer,
        parameters=[ENDPOINT_ID],
        responses={200: docs.object_response(WebhookReplaySerializer), **docs.WRITE_ERRORS},
    )
    def post(self, request: Request, endpoint_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(WebhookReplayInputSerializer, request.data)
        queued = services.deliveries_replay(
            store=self.store,
            endpoint=self.endpoint,
            since=data["since"].lower(self.store.tzinfo),
            status=data["status"],
        )
        return Response({"data": WebhookReplaySerializer({"queued": queued}).data})


class WebhookDeliveryDetailView(DeliveryScopedView):
    operation_name = "webhook_deliveries_retrieve"
    required_scopes = {"GET": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="Get one webhook delivery",
        parameters=[DELIVERY_ID],
        responses={200: DELIVERY_RESPONSE, **docs.ERRORS},
    )
    def get(self, request: Request, delivery_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        return Response({"data": WebhookDeliverySerializer(self.delivery).data})


class WebhookDeliveryRetryView(DeliveryScopedView):
    """Send a delivery again now, whatever became of it, with a fresh retry window."""

    operation_name = "webhook_deliveries_retry"
    required_scopes = {"POST": Scope.MANAGE_WEBHOOKS}

    @extend_schema(
        summary="Retry a webhook delivery now",
        parameters=[DELIVERY_ID],
        request=None,
        responses={200: DELIVERY_RESPONSE, **docs.WRITE_ERRORS},
    )
    def post(self, request: Request, delivery_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        _no_body(request)
        delivery = services.delivery_retry(store=self.store, delivery=self.delivery)
        return Response({"data": WebhookDeliverySerializer(delivery).data})
