from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from notes import selectors, services
from notes.api.serializers import NoteCreateSerializer, NoteSerializer
from orders.api import docs
from orders.api.base import OrderScopedView, validated
from orders.api.idempotent import idempotent
from orders.api.params import AUTH_PARAMETERS, check_parameters
from orders.api.patterns import one_of_pattern
from orders.exceptions import InvalidParameters
from orders.models import Scope


class OrderNotesView(OrderScopedView):
    """An order's notes. Customer-facing notes (is_internal false) are emailed to the customer."""

    operation_ids = {"GET": "orders_notes_list", "POST": "orders_notes_create"}
    required_scopes = {"GET": Scope.READ_ORDERS, "POST": Scope.WRITE_ORDERS}

    @extend_schema(
        summary="List an order's notes, oldest first",
        parameters=[
            docs.ORDER_ID,
            OpenApiParameter(
                "type",
                {
                    "type": "string",
                    "pattern": one_of_pattern(selectors.NOTE_TYPES),
                },
                description=f"One of {', '.join(selectors.NOTE_TYPES)} (default all).",
            ),
        ],
        responses={
            200: docs.plain_list_response(NoteSerializer, "NoteListResponse"),
            **docs.ERRORS,
        },
    )
    def get(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        params = check_parameters(request.query_params, allowed=AUTH_PARAMETERS | {"type"})
        note_type = params.get("type", "all").strip().lower()
        if note_type not in selectors.NOTE_TYPES:
            raise InvalidParameters(
                {"type": f"type must be one of {', '.join(selectors.NOTE_TYPES)}."}
            )
        notes = selectors.notes_of(store=self.store, orders=[self.order], note_type=note_type)
        return Response({"object": "list", "data": NoteSerializer(notes, many=True).data})

    @extend_schema(
        summary="Add a note (customer-facing notes email the customer)",
        request=NoteCreateSerializer,
        parameters=[docs.ORDER_ID, docs.IDEMPOTENCY_KEY],
        responses={201: docs.object_response(NoteSerializer), **docs.WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, order_id: str, store_id: str | None = None) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        data = validated(NoteCreateSerializer, request.data)
        note = services.note_create(
            store=self.store,
            order=self.order,
            content=data["content"],
            is_internal=data["is_internal"],
            author=request.auth.actor_label,
        )
        return Response({"data": NoteSerializer(note).data}, status=201)
