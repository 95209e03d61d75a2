"""What every store-scoped API view shares: the store (and order) it acts on, and its
strictly checked request body."""

from rest_framework.request import Request
from rest_framework.views import APIView

from orders import selectors
from orders.api.errors import validation_details
from orders.exceptions import InvalidParameters, NotFound
from orders.models import Order, Store


class StoreScopedView(APIView):
    """Resolves the store a request acts on: always the API key's own.

    On `/v1/stores/{store_id}/…` the path must name that store; any other id,
    well-formed or not, is a 404 exactly like a store that does not exist.
    Views declare `required_scopes = {"GET": "read:orders", …}` (orders.api.auth).
    """

    required_scopes: dict[str, str] = {}
    store: Store

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        store: Store = request.auth.store
        store_id = kwargs.get("store_id")
        if store_id is not None and store_id != store.public_id:
            raise NotFound(f"No store '{store_id}' for this API key.")
        self.store = store


class OrderScopedView(StoreScopedView):
    """A view of one order (`…/orders/{order_id}/…`), resolved once into `self.order`
    after authentication and scopes: another store's order is a 404 like a missing one."""

    order: Order

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.order = selectors.order_get(store=self.store, order_id=kwargs["order_id"])


def validated(serializer_class, data) -> dict:
    """The request body checked against `serializer_class`; 400 naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidParameters({"body": "Send a JSON object."})
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        errors: dict[str, list[str]] = {}
        for detail in validation_details(serializer.errors):
            errors.setdefault(detail["field"] or "body", []).append(detail["message"])
        raise InvalidParameters(errors, message="The request body is invalid; see details.")
    return serializer.validated_data
