from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.api import docs
from orders.api.base import OrderScopedView, validated
from orders.api.idempotent import idempotent
from orders.api.params import AUTH_PARAMETERS, check_parameters
from orders.models import Scope
from refunds import selectors, services
from refunds.api.serializers import (
    RefundCreateSerializer,
    RefundQuoteInputSerializer,
    RefundQuoteSerializer,
    RefundSerializer,
)


def _line_requests(data) -> list[services.RefundLineRequest]:
    return [services.RefundLineRequest(**line) for line in data.get("line_items", [])]


class OrderRefundsView(OrderScopedView):
    """An order's refunds (GET), and a new refund (POST): lines (restocked by default),
    shipping, or a goodwill amount. Served at /refund and /refunds alike."""

    operation_ids = {"GET": "orders_refunds_list", "POST": "orders_refunds_create"}
    required_scopes = {"GET": Scope.READ_ORDERS, "POST": Scope.WRITE_REFUNDS}

    @extend_schema(
        summary="Issue a full or partial refund",
        request=RefundCreateSerializer,
        parameters=[docs.ORDER_ID, docs.IDEMPOTENCY_KEY],
        responses={201: docs.object_response(RefundSerializer), **docs.WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(RefundCreateSerializer, request.data)
        refund = services.refund_create(
            store=self.store,
            order=self.order,
            actor=request.auth.actor_label,
            lines=_line_requests(data),
            amount=data.get("amount"),
            reason=data.get("reason", ""),
            restock=data.get("restock"),
            refund_shipping=data["refund_shipping"],
        )
        return Response({"data": RefundSerializer(refund).data}, status=201)

    @extend_schema(
        summary="List an order's refunds",
        parameters=[docs.ORDER_ID],
        responses={
            200: docs.plain_list_response(RefundSerializer, "RefundListResponse"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        refunds = selectors.refunds_of(store=self.store, orders=[self.order])
        return Response({"object": "list", "data": RefundSerializer(refunds, many=True).data})


class OrderRefundQuoteView(OrderScopedView):
    """What a refund would give back, per line and in total, before making it.
    Without line_items: everything still refundable."""

    operation_name = "orders_refunds_calculate"
    required_scopes = {"POST": Scope.READ_ORDERS}

    @extend_schema(
        summary="Preview a refund (nothing is changed)",
        request=RefundQuoteInputSerializer,
        parameters=[docs.ORDER_ID],
        responses={200: docs.object_response(RefundQuoteSerializer), **docs.WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(RefundQuoteInputSerializer, request.data or {})
        quote = services.refund_quote(
            store=self.store,
            order=self.order,
            lines=_line_requests(data) if "line_items" in data else None,
            refund_shipping=data["refund_shipping"],
        )
        return Response({"data": RefundQuoteSerializer(quote).data})
