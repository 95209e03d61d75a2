from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from notes import selectors, services
from notes.api.serializers import NoteCreateSerializer, NoteSerializer
from notes.models import OrderNote
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


NOTE_ID = docs.path_id("note_id", OrderNote.PUBLIC_ID_PREFIX)


class OrderNoteResendView(OrderScopedView):
    """Email a customer-facing note again."""

    operation_ids = {"POST": "orders_notes_resend"}
    required_scopes = {"POST": Scope.WRITE_ORDERS}

    @extend_schema(
        summary="Email a customer-facing note again (after it failed, or was lost)",
        description=(
            "A note whose email `failed` (or was `sent`, and the customer lost it) goes back "
            "to `pending` with `notification_attempts` 0 and is emailed on the delivery "
            "worker's next round, retried for 24 hours if the mail server fails. An internal "
            "note is never emailed (422 VALIDATION_ERROR naming `note_id`); a note still "
            "`pending` is queued already (409 NOTE_EMAIL_PENDING: wait until it is sent or "
            "failed)."
        ),
        request=None,
        parameters=[docs.ORDER_ID, NOTE_ID, docs.IDEMPOTENCY_KEY],
        responses={
            200: docs.object_response(NoteSerializer),
            **docs.WRITE_ERRORS,
            409: OpenApiResponse(
                docs.ERROR_RESPONSE,
                description="NOTE_EMAIL_PENDING (the email is queued already), "
                "IDEMPOTENCY_KEY_IN_USE",
            ),
            422: OpenApiResponse(
                docs.ERROR_RESPONSE,
                description="VALIDATION_ERROR naming note_id: an internal note (never "
                "emailed) or an order without a customer email address; "
                "IDEMPOTENCY_KEY_REUSED",
            ),
        },
    )
    @idempotent
    def post(
        self, request: Request, order_id: str, note_id: str, store_id: str | None = None
    ) -> Response:
        check_parameters(request.query_params, allowed=AUTH_PARAMETERS)
        note = selectors.note_get(store=self.store, order=self.order, note_id=note_id)
        note = services.note_resend(
            store=self.store, order=self.order, note=note, actor=request.auth.actor_label
        )
        return Response({"data": NoteSerializer(note).data})
