"""The events feed (DESIGN.md "Events and webhooks"): GET /v1/events and /v1/events/{id}.

Events are read in commit order (`position`, then id), newest first unless the
client asks `sort=created_at`; a consumer paging oldest first by cursor never
misses one, because the feed only shows events no open transaction can precede
(orders.selectors.events_settled).
"""

import time
from typing import Any

from django import forms
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orders import selectors
from orders.api import docs
from orders.api.base import StoreScopedView
from orders.api.fields import PublicIdField, TimestampField, timestamp
from orders.api.pagination import PAGING_PARAMETERS, Cursor, paged_list_body
from orders.api.params import AUTH_PARAMETERS, check_parameters
from orders.api.patterns import SPACES, comma_list_pattern, one_of_pattern
from orders.api.renderers import dumps
from orders.api.serializers import ObjectTypeField
from orders.exceptions import InvalidParameters, NotFound, UnacceptableValues
from orders.filters import DateBoundField
from orders.ids import format_public_id, parse_public_id, public_id_pattern
from orders.models import Event, EventType, Order, Scope, Store
from orders.models.event import EVENT_RETENTION_DAYS, EVENT_TYPE_PATTERNS, event_types_matching
from orders.selectors import SortKey

EVENT_LIST_PARAMETERS = AUTH_PARAMETERS | PAGING_PARAMETERS | {
    "starting_after",
    "type", "order_id", "created_after", "sort", "order",
}  # fmt: skip
_NEWEST_FIRST = SortKey((("position", True),))
_OLDEST_FIRST = SortKey((("position", False),))
# The shape of each kind of object an event carries, registered by the apps that own it.
_OBJECT_SHAPES: dict[str, type[serializers.Serializer]] = {}


def register_event_object_shape(object_name: str, shape: type[serializers.Serializer]) -> None:
    """Document that events may carry `object_name` objects shaped like `shape`."""
    _OBJECT_SHAPES[object_name] = shape


def _envelope(event: Event) -> dict[str, Any]:
    return {
        "object": "event",
        "id": event.public_id,
        "type": event.type,
        "created_at": timestamp(event.created_at),
        "store_id": format_public_id(Store.PUBLIC_ID_PREFIX, event.store_id),
        "order_id": format_public_id(Order.PUBLIC_ID_PREFIX, event.order_id),
    }


def render_event(event: Event) -> dict[str, Any]:
    return {**_envelope(event), "data": event.data}


def event_json(event: Event) -> str:
    """The event as JSON text, exactly as the feed prints it, without parsing its stored
    `data` again: what a webhook delivery sends and signs."""
    envelope = dumps({**_envelope(event), "data": None})
    return envelope.removesuffix("null}") + event.data_json + "}"


class EventDataSerializer(serializers.Serializer):
    """`data` of an event: the object after the change, and what it was before."""

    def get_fields(self):
        return {
            "object": PolymorphicProxySerializer(
                component_name="EventObject",
                serializers={name: _OBJECT_SHAPES[name] for name in sorted(_OBJECT_SHAPES)},
                resource_type_field_name="object",
                help_text="The order, fulfillment, refund or note as the API renders it.",
            ),
            "previous_attributes": serializers.DictField(
                help_text="The changed fields' values before the change ({} when created)."
            ),
        }


class EventSerializer(serializers.Serializer):
    """For the document only: events are rendered by `render_event`."""

    object = ObjectTypeField("event")
    id = PublicIdField(Event.PUBLIC_ID_PREFIX)
    type = serializers.ChoiceField(choices=EventType.choices)
    created_at = TimestampField()
    store_id = PublicIdField(Store.PUBLIC_ID_PREFIX)
    order_id = PublicIdField(Order.PUBLIC_ID_PREFIX)
    data = EventDataSerializer()


EVENT_RESPONSE = docs.object_response(EventSerializer)
_TYPE_ITEM = f"{SPACES}{one_of_pattern(EVENT_TYPE_PATTERNS)[1:-1]}{SPACES}"
EVENT_DOC_PARAMETERS = [
    docs.query_parameter(
        "starting_after",
        "The events after this one, in the sort asked: how a consumer that reached the end "
        "(no next_cursor) asks what happened since. Not with cursor, page or offset.",
        {"type": "string", "pattern": public_id_pattern(Event.PUBLIC_ID_PREFIX)},
    ),
    docs.query_parameter(
        "type",
        "Comma list of event types; `order.*` names every order event, `*` all of them.",
        {"type": "string", "pattern": comma_list_pattern(_TYPE_ITEM)},
    ),
    docs.query_parameter(
        "order_id",
        "Only the events of this order (and of its fulfillments, refunds and notes).",
        {"type": "string", "pattern": public_id_pattern(Order.PUBLIC_ID_PREFIX)},
    ),
    docs.query_parameter(
        "created_after",
        "Events created at or after this instant (a bare YYYY-MM-DD is that day's start in "
        "the store's time zone).",
        docs.DATE_OR_DATE_TIME,
    ),
    docs.query_parameter(
        "sort",
        "`-created_at` newest first (default) or `created_at` oldest first: the order for "
        "consumers, who follow `next_cursor` and never miss an event.",
        {"type": "string", "pattern": one_of_pattern(["created_at", "-created_at"])},
    ),
    docs.query_parameter(
        "order",
        "`asc` or `desc`: the direction of `sort=created_at`, or alone of created_at "
        "(seed 002 style); `sort=-created_at` is newest first whatever it says.",
        {"type": "string", "pattern": one_of_pattern(["asc", "desc"])},
    ),
    *docs.PAGING_DOC_PARAMETERS,
]


def _event_sort(params: dict[str, str]) -> SortKey:
    """As on the order list: `-created_at` is newest first whatever `order` says,
    `created_at` follows `order` (default asc), and `order` alone sorts by created_at."""
    direction = params.get("order", "").strip().lower()
    if direction not in {"", "asc", "desc"}:
        raise InvalidParameters({"order": f"order must be asc or desc; got '{direction}'."})
    if "sort" not in params:
        return _OLDEST_FIRST if direction == "asc" else _NEWEST_FIRST
    sort = params["sort"].strip().lower()
    if sort not in {"created_at", "-created_at"}:
        raise InvalidParameters(
            {"sort": f"Events sort by created_at (oldest first) or -created_at; got '{sort}'."}
        )
    descending = sort == "-created_at" or direction == "desc"
    return _NEWEST_FIRST if descending else _OLDEST_FIRST


def _event_filters(params: dict[str, str], *, store: Store) -> tuple[dict[str, Any], dict]:
    """(ORM filters, the filters as understood for `meta.filters`)."""
    errors: dict[str, list[str]] = {}
    filters: dict[str, Any] = {}
    understood: dict[str, Any] = {}
    if "type" in params:
        # Empty items are forgiven, as in every comma list (`type=order.paid,`).
        patterns = [item.strip().lower() for item in params["type"].split(",") if item.strip()]
        try:
            if not patterns:
                raise ValueError("Give at least one event type, or leave type out.")
            types = event_types_matching(patterns)
        except ValueError as error:
            errors["type"] = [str(error)]
        else:
            filters["type__in"] = sorted(types)
            understood["type"] = sorted(types)
    if "order_id" in params:
        try:
            filters["order_id"] = parse_public_id(Order.PUBLIC_ID_PREFIX, params["order_id"])
            understood["order_id"] = params["order_id"]
        except ValueError:
            errors["order_id"] = [
                f"order_id must be an order id (ord_…); got '{params['order_id']}'."
            ]
    if "created_after" in params:
        try:
            bound = DateBoundField().clean(params["created_after"])
        except forms.ValidationError as error:
            errors["created_after"] = list(error.messages)
        else:
            instant = bound.lower(store.tzinfo)
            filters["created_at__gte"] = instant
            understood["created_after"] = TimestampField().to_representation(instant)
    if errors:
        raise InvalidParameters.naming_fields(errors)
    return filters, understood


def _resume_after(params: dict[str, str], *, sort: SortKey, store: Store) -> dict[str, str]:
    """`starting_after=evt_…` as the cursor of the page after that event: how a consumer
    that reached the end of the feed (no next_cursor) asks what has happened since."""
    clashing = [name for name in ("cursor", "page", "offset") if name in params]
    if clashing:
        raise InvalidParameters({clashing[0]: f"Use starting_after or {clashing[0]}, not both."})
    given = params["starting_after"]
    try:
        parse_public_id(Event.PUBLIC_ID_PREFIX, given)
    except ValueError:
        raise InvalidParameters(
            {"starting_after": f"starting_after must be an event id (evt_…); got '{given}'."}
        ) from None
    try:
        event = selectors.event_get(store=store, event_id=given)
    except NotFound:
        raise UnacceptableValues(
            {
                "starting_after": (
                    f"No event '{given}' in this store (events are kept "
                    f"{EVENT_RETENTION_DAYS} days). Start again from created_after."
                )
            }
        ) from None
    cursor = Cursor(sort.label, [event.position, event.id]).encode()
    return {**{k: v for k, v in params.items() if k != "starting_after"}, "cursor": cursor}


class EventListView(StoreScopedView):
    """The store's events, newest first or oldest first, by page or keyset cursor."""

    operation_name = "events_list"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="List events",
        parameters=EVENT_DOC_PARAMETERS,
        responses={
            200: docs.paged_list_response(EventSerializer, "EventList"),
            **docs.ERRORS,
            422: docs.UNKNOWN_STARTING_POINT,
        },
    )
    def get(self, request: Request, store_id: str | None = None) -> Response:
        started = time.perf_counter()
        params = check_parameters(request.query_params, allowed=EVENT_LIST_PARAMETERS)
        sort = _event_sort(params)
        filters, understood = _event_filters(params, store=self.store)
        if "starting_after" in params:
            params = _resume_after(params, sort=sort, store=self.store)
        events = selectors.events_settled(store=self.store).filter(**filters)
        body = paged_list_body(
            events.order_by(*sort.order_by()),
            params,
            sort=sort,
            render=lambda rows: [render_event(event) for event in rows],
            filters=understood,
            sort_label="-created_at" if sort is _NEWEST_FIRST else "created_at",
            started=started,
        )
        return Response(body)


class EventDetailView(StoreScopedView):
    operation_name = "events_retrieve"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="Get one event",
        parameters=[docs.path_id("event_id", Event.PUBLIC_ID_PREFIX)],
        responses={200: EVENT_RESPONSE, **docs.ERRORS},
    )
    def get(self, request: Request, event_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        event = selectors.event_get(store=self.store, event_id=event_id)
        return Response({"data": render_event(event)})


def register() -> None:
    """Orders and fulfillments in events, rendered as the order and fulfillment routes
    render them (called from OrdersConfig.ready)."""
    from orders.api.includes import OrderWithRelationsSerializer
    from orders.api.rendering import render_fulfillment
    from orders.api.serializers import FulfillmentSerializer
    from orders.api.views import DETAIL_INCLUDES, render_orders
    from orders.models import Fulfillment
    from orders.services import register_event_renderer

    detail = [(name, name) for name in DETAIL_INCLUDES]
    register_event_renderer(Order, lambda store, order: render_orders(store, [order], detail)[0])
    register_event_renderer(Fulfillment, lambda store, fulfillment: render_fulfillment(fulfillment))
    register_event_object_shape("order", OrderWithRelationsSerializer)
    register_event_object_shape("fulfillment", FulfillmentSerializer)
