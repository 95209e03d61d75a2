"""Orders API views: parse, call one selector or service, render."""

import time
from collections.abc import Sequence

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.api import docs
from orders.api.base import OrderScopedView, StoreScopedView, validated
from orders.api.idempotent import idempotent
from orders.api.includes import (
    Include,
    OrderWithRelationsSerializer,
    load_includes,
    parse_includes,
)
from orders.api.inputs import OrderCreateSerializer, OrderUpdateSerializer, OrderVoidSerializer
from orders.api.pagination import Page, list_body, paginate
from orders.api.params import (
    AUTH_PARAMETERS,
    COUNT_PARAMETERS,
    DETAIL_PARAMETERS,
    check_parameters,
    order_list_query,
)
from orders.api.rendering import (
    LineItemRow,
    OrderRow,
    order_rows,
    render_line_item,
    render_order,
    render_status_change,
    rows_of,
)
from orders.api.serializers import LineItemSerializer, StatusChangeSerializer
from orders.exceptions import NotFound
from orders.models import Order, PaymentMethod, Scope, Store

# One order (GET, PATCH, create) always carries these (DESIGN.md "The order object").
DETAIL_INCLUDES = ("items", "fulfillments")


def order_response(
    store: Store, order: Order, *, status: int = 200, extra_includes: Sequence[Include] = ()
) -> Response:
    """One order as the API shows it everywhere: with items, fulfillments (plus any
    `extra_includes`) and its ETag."""
    includes = list(dict.fromkeys([*((name, name) for name in DETAIL_INCLUDES), *extra_includes]))
    headers = {"ETag": order.etag}
    if status == 201:
        headers["Location"] = f"/v1/stores/{store.public_id}/orders/{order.public_id}"
    response = Response(
        {"data": render_orders(store, [order], includes)[0]}, status=status, headers=headers
    )
    # The ETag versions the order and what it always carries; notes, refunds or history
    # asked with include= can change while it stays the same, so they are never a 304.
    response.etag_covers_body = not extra_includes
    return response


def render_orders(
    store: Store, orders: Sequence[Order | OrderRow], includes: Sequence[Include]
) -> list[dict]:
    """`orders` (instances, or the list's rows) as the API shows them, with the related
    lists `includes` name: plain functions, one query per include."""
    related = list(load_includes(includes, store=store, orders=orders).items())
    data = []
    for order in orders:
        rendered = render_order(order)
        for key, by_order in related:
            rendered[key] = by_order.get(order.pk, [])
        data.append(rendered)
    return data


def count_orders(filters, *, mode: str) -> tuple[int | None, bool]:
    """`pagination.total` as ?count= asked: (total or None, whether it is an estimate)."""
    if mode == "none":
        return None, False
    if mode == "estimate":
        return selectors.order_count_estimate(filters=filters)
    return selectors.order_count(filters=filters), False


def next_page_url(request: Request, page: Page) -> str:
    """The absolute URL of the page after `page`, paged the way the client pages."""
    params = request.query_params.copy()
    params.pop("api_key", None)  # never copied into a header proxies and logs keep
    if page.request.cursor is not None or "cursor" in params:
        params["cursor"] = page.next_cursor
    elif page.request.offset_style and "offset" in params:
        params["offset"] = str(page.request.offset + page.request.per_page)
    else:
        params["page"] = str((page.request.page or 1) + 1)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class OrderListView(StoreScopedView):
    """The store's orders: filters, sort, page / offset / keyset cursor, include.
    POST creates an order priced from the catalog."""

    operation_ids = {"GET": "orders_list", "POST": "orders_create"}
    required_scopes = {"GET": Scope.READ_ORDERS, "POST": Scope.WRITE_ORDERS}

    @extend_schema(
        summary="List orders",
        parameters=docs.LIST_PARAMETERS,
        responses={200: docs.order_list_response(OrderWithRelationsSerializer), **docs.ERRORS},
    )
    def get(self, request: Request, store_id: str | None = None) -> Response:
        started = time.perf_counter()
        query = order_list_query(request.query_params, store=self.store)
        orders = selectors.order_list(filters=query.filters, sort=query.sort)
        page = paginate(order_rows(orders), query.page, sort=query.sort, row=OrderRow._make)
        total, estimated = count_orders(query.filters, mode=query.page.count)
        data = render_orders(self.store, page.rows, query.includes)
        meta = query.meta(store=self.store, started=started)
        body = list_body(data=data, page=page, total=total, meta=meta, total_is_estimate=estimated)
        headers = {"Link": f'<{next_page_url(request, page)}>; rel="next"'} if page.has_more else {}
        return Response(body, headers=headers)

    @extend_schema(
        summary="Create an order",
        request=OrderCreateSerializer,
        parameters=[docs.IDEMPOTENCY_KEY],
        responses={201: docs.object_response(OrderWithRelationsSerializer), **docs.WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(OrderCreateSerializer, request.data)
        order = services.order_create(
            store=self.store,
            actor=request.auth.actor_label,
            lines=[services.LineRequest(**line) for line in data["line_items"]],
            shipping_address=services.AddressInput(**data["shipping_address"]),
            shipping_method=data["shipping_method"],
            customer_id=data.get("customer_id"),
            customer=services.CustomerInput(**data["customer"]) if "customer" in data else None,
            customer_notes=data.get("notes", data.get("customer_notes", "")),
            po_number=data.get("po_number", ""),
            payment_method=data.get("payment_method", PaymentMethod.CARD),
        )
        return order_response(self.store, order, status=201)


class OrderCountView(StoreScopedView):
    """How many orders match the list's filters (dashboards: `?status=pending`)."""

    operation_name = "orders_count"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="Count orders matching the list's filters",
        parameters=docs.FILTER_DOC_PARAMETERS,
        responses={
            200: inline_serializer(
                "OrderCountResponse",
                {"data": inline_serializer("OrderCount", {"count": serializers.IntegerField()})},
            ),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, store_id: str | None = None) -> Response:
        params = check_parameters(request.query_params, allowed=COUNT_PARAMETERS)
        count = selectors.order_count_matching(store=self.store, params=params)
        return Response({"data": {"count": count}})


class OrderDetailView(OrderScopedView):
    """One order with its items and fulfillments; `include=status_history` adds the trail."""

    operation_ids = {"GET": "orders_retrieve", "PATCH": "orders_partial_update"}
    required_scopes = {"GET": Scope.READ_ORDERS, "PATCH": Scope.WRITE_ORDERS}

    @extend_schema(
        summary="Get one order with its items and fulfillments",
        parameters=[docs.ORDER_ID, docs.INCLUDE_DETAIL, docs.IF_NONE_MATCH],
        responses={
            200: docs.object_response(OrderWithRelationsSerializer),
            **docs.NOT_MODIFIED,
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        params = check_parameters(request.query_params, allowed=DETAIL_PARAMETERS)
        extra = parse_includes(params.get("include"), default=())
        return order_response(self.store, self.order, extra_includes=extra)

    @extend_schema(
        summary="Change status, payment status or details",
        request=OrderUpdateSerializer,
        parameters=[docs.ORDER_ID, docs.IF_MATCH],
        responses={200: docs.object_response(OrderWithRelationsSerializer), **docs.WRITE_ERRORS},
    )
    def patch(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(OrderUpdateSerializer, request.data)
        shipment = None
        if "carrier" in data or "tracking_number" in data:
            shipment = services.ShipmentInput(
                carrier=data.get("carrier", ""),
                tracking_number=data.get("tracking_number", ""),
                tracking_url=data.get("tracking_url", ""),
            )
        order = services.order_update(
            store=self.store,
            order=self.order,
            actor=request.auth.actor_label,
            reason=data.get("reason", ""),
            status=data.get("status"),
            shipment=shipment,
            payment_status=data.get("payment_status"),
            address=data.get("shipping_address"),
            details={
                name: data[name]
                for name in ("customer_notes", "internal_notes", "po_number")
                if name in data
            },
            expected_etag=request.headers.get("If-Match"),
        )
        return order_response(self.store, order)


class OrderVoidView(OrderScopedView):
    """Void an unpaid pending or confirmed order, releasing its stock."""

    operation_name = "orders_void"
    required_scopes = {"POST": Scope.WRITE_ORDERS}

    @extend_schema(
        summary="Void an unpaid order",
        request=OrderVoidSerializer,
        parameters=[docs.ORDER_ID, docs.IDEMPOTENCY_KEY],
        responses={200: docs.object_response(OrderWithRelationsSerializer), **docs.WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(OrderVoidSerializer, request.data or {})
        order = services.order_void(
            store=self.store,
            order=self.order,
            actor=request.auth.actor_label,
            reason=data.get("reason", ""),
        )
        return order_response(self.store, order)


class OrderItemsView(OrderScopedView):
    """An order's line items."""

    operation_name = "orders_items_list"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="List an order's line items",
        parameters=[docs.ORDER_ID],
        responses={
            200: docs.plain_list_response(LineItemSerializer, "LineItemListResponse"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        items = selectors.order_items(store=self.store, order=self.order)
        rows = rows_of(items, LineItemRow)
        return Response({"object": "list", "data": [render_line_item(item) for item in rows]})


class OrderStatusHistoryView(OrderScopedView):
    """Every status and payment-status change of an order, creation first."""

    operation_name = "orders_status_history"
    required_scopes = {"GET": Scope.READ_ORDERS}

    @extend_schema(
        summary="An order's status audit trail, oldest first",
        parameters=[docs.ORDER_ID],
        responses={
            200: docs.plain_list_response(StatusChangeSerializer, "StatusHistoryResponse"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        history = selectors.status_history(store=self.store, order_ids=[self.order.pk])
        changes = history.get(self.order.pk, [])
        return Response({"object": "list", "data": [render_status_change(c) for c in changes]})


class ApiNotFoundView(APIView):
    """Any /v1 path that matches no route: a 404 in the envelope, whatever the method."""

    authentication_classes = []
    permission_classes = []
    schema = None

    def _not_found(self, request: Request, *args, **kwargs) -> Response:
        raise NotFound(
            f"No API route '{request.path}'. Routes live under /v1/orders, "
            "/v1/stores/{store_id}/orders and /v1/store; see /v1/docs."
        )

    get = post = put = patch = delete = head = options = _not_found
