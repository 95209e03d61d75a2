"""What the test files share: reading the API's answers, driving the API and the admin in
one line, and the snapshots that prove a refused action changed nothing.

Wherever a helper takes `order`, it is an Order or the API's JSON of one.
"""

import csv
import io
import signal
from datetime import UTC, date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from notes.models import OrderNote
from orders.ids import parse_public_id
from orders.management.commands import delivery_worker
from orders.models import ApiKey, Fulfillment, LineItem, Order, Variant
from orders.selectors import status_history as stored_status_history
from orders.services import AddressInput
from refunds.models import Refund, RefundLine
from tests.contract import STATUS_TIMESTAMPS
from tests.factories import make_customer

# --- the API's answers -----------------------------------------------------------------------


def api_client(raw_key: str | None = None, **options) -> APIClient:
    """An API client (`options` as APIClient takes them) sending `raw_key` as X-API-Key, or
    no key at all when None."""
    client = APIClient(**options)
    if raw_key is not None:
        client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def data_of(response, status: int = 200):
    """The `data` of a response that must have answered `status`."""
    assert response.status_code == status, response.content
    return response.json()["data"]


def created(response) -> dict:
    """The `data` of a response that must be 201 Created."""
    return data_of(response, 201)


ERROR_KEYS = {"code", "message", "details", "context", "request_id"}


def assert_error(response, status: int, code: str) -> dict:
    """The error of a response that must be `status` with `code` in the error envelope: a
    message, details in their one shape (see assert_details), a context object, and the
    request id the X-Request-Id header carries."""
    assert response.status_code == status, response.content
    assert set(response.json()) == {"error"}
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert_details(error)
    assert isinstance(error["context"], dict)
    assert error["request_id"]
    assert error["request_id"] == response["X-Request-Id"]
    return error


def assert_details(error: dict) -> None:
    """`details` is a list of {field, message}, each a non-empty string but the field of a
    problem with the request as a whole; FEATURE_ACCESS_DENIED alone keeps seed 001's
    object {"feature": …}."""
    if error["code"] == "FEATURE_ACCESS_DENIED":
        assert set(error["details"]) == {"feature"}
        return
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert set(detail) == {"field", "message"}
        assert isinstance(detail["field"], str)
        assert isinstance(detail["message"], str)
        assert detail["message"]


def assert_rejected(response, *fields: str) -> dict:
    """A 400 VALIDATION_ERROR, exactly the envelope and nothing more, whose details name
    exactly `fields`, each with a message."""
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == set(fields)
    return error


def assert_scope_refused(response, scope: str) -> dict:
    """A 403 INSUFFICIENT_SCOPE naming `scope`: no field at fault, the scope in context."""
    error = assert_error(response, 403, "INSUFFICIENT_SCOPE")
    assert scope in error["message"]
    assert error["details"] == []
    assert error["context"]["required_scope"] == scope
    return error


def fields_named(error: dict) -> set[str]:
    return {detail["field"] for detail in error["details"]}


def detail_fields(error: dict) -> list[str]:
    """The fields the error's details name, in their order and with repeats."""
    return [detail["field"] for detail in error["details"]]


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def at(*args) -> datetime:
    """The UTC instant datetime(*args)."""
    return datetime(*args, tzinfo=UTC)


LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def local(day: date, hour: int, minute: int = 0, second: int = 0, zone=LOS_ANGELES) -> datetime:
    """The instant the clocks of `zone` (the los_angeles store's by default) show that time
    on `day`."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=zone)


def actor_of(store) -> str:
    """How the history names the store's (only) API key."""
    return f"api_key_{ApiKey.objects.get(store=store).prefix}"


# --- orders through the API --------------------------------------------------------------


def _public_id(order) -> str:
    return order["id"] if isinstance(order, dict) else order.public_id


def stored_order(order) -> Order:
    """The order as the database holds it now."""
    if isinstance(order, dict):
        return Order.objects.get(pk=parse_public_id(Order.PUBLIC_ID_PREFIX, order["id"]))
    return Order.objects.get(pk=order.pk)


# Seed 003's shipping address in Portland, Oregon, in seed 003's names.
SEED_003_ADDRESS = {
    "line1": "123 Main St",
    "city": "Portland",
    "state": "OR",
    "postal_code": "97201",
    "country": "US",
}


def seed_003_address(**changes) -> AddressInput:
    """SEED_003_ADDRESS, with `changes`, as the services take it."""
    seed = SEED_003_ADDRESS
    address = {
        "line1": seed["line1"],
        "city": seed["city"],
        "province": seed["state"],
        "postal_code": seed["postal_code"],
        "country_code": seed["country"],
    }
    return AddressInput(**{**address, **changes})


def order_body(store, lines, *, shipping: str = "standard", **address) -> dict:
    """A POST /v1/orders body: `lines` [(variant, quantity)] for a new customer of `store`,
    shipped by `shipping` to SEED_003_ADDRESS with `address`'s changes."""
    return {
        "customer_id": make_customer(store=store).public_id,
        "line_items": [{"variant_id": v.public_id, "quantity": q} for v, q in lines],
        "shipping_address": {**SEED_003_ADDRESS, **address},
        "shipping_method": shipping,
    }


def create_order(client, store, lines, *, shipping: str = "standard", **address) -> dict:
    """An order of `lines` created by POST /v1/orders; its JSON."""
    body = order_body(store, lines, shipping=shipping, **address)
    return created(client.post("/v1/orders", body, format="json"))


def paid_order(client, store, lines, **options) -> dict:
    """An order created through the API (see create_order), then marked paid by PATCH."""
    order = create_order(client, store, lines, **options)
    return data_of(patch_order(client, order, {"payment_status": "paid"}))


def patch_order(client, order, body: dict, **headers):
    return client.patch(f"/v1/orders/{_public_id(order)}", body, format="json", **headers)


def void_order(client, order, body: dict | None = None):
    return client.post(f"/v1/orders/{_public_id(order)}/void", body or {}, format="json")


def status_history(client, order) -> list[dict]:
    """GET /v1/orders/{id}/status-history: the order's trail, oldest first."""
    return data_of(client.get(f"/v1/orders/{_public_id(order)}/status-history"))


# Orders an API client made whose payment is not held, each for another reason.


def unpaid_order(client, store, variant) -> dict:
    return create_order(client, store, [(variant, 2)])


def voided_order(client, store, variant) -> dict:
    return data_of(void_order(client, unpaid_order(client, store, variant)))


def cancelled_order(client, store, variant) -> dict:
    order = unpaid_order(client, store, variant)
    return data_of(patch_order(client, order, {"status": "cancelled"}))


def payment_failed_order(client, store, variant) -> dict:
    order = unpaid_order(client, store, variant)
    return data_of(patch_order(client, order, {"payment_status": "failed"}))


def refunded_order(client, store, variant) -> dict:
    order = paid_order(client, store, [(variant, 2)])
    everything = {"line_items": [refund_line(order, quantity=2)], "refund_shipping": True}
    created(refund(client, order, everything))
    return data_of(client.get(f"/v1/orders/{order['id']}"))


# --- refunds through the API -------------------------------------------------------------


def refund(client, order, body: dict, *, path: str = "refund", **headers):
    """POST /v1/orders/{id}/refund (or the same route under another `path`)."""
    return client.post(f"/v1/orders/{_public_id(order)}/{path}", body, format="json", **headers)


def calculate(client, order, body: dict | None = None):
    """POST /v1/orders/{id}/refunds/calculate: the refund preview."""
    url = f"/v1/orders/{_public_id(order)}/refunds/calculate"
    return client.post(url, body or {}, format="json")


def item_id(order: dict, variant=None) -> str:
    """The id of `order`'s line for `variant` (its only line when no variant is named)."""
    if variant is None:
        (only,) = order["items"]
        return only["id"]
    return next(i["id"] for i in order["items"] if i["variant_id"] == variant.public_id)


def refund_line(order: dict, variant=None, quantity: int = 1) -> dict:
    """A refund request's line: `quantity` units of `order`'s line for `variant`."""
    return {"line_item_id": item_id(order, variant), "quantity": quantity}


def refund_standing(order) -> tuple[Decimal, str]:
    """The order's refunded amount and payment status, as stored now."""
    fresh = stored_order(order)
    return fresh.refunded_amount, fresh.payment_status


def refunded_quantities(order) -> list[int]:
    """Each line's refunded units, the lines in the order they were made."""
    items = LineItem.objects.filter(order=stored_order(order)).order_by("created_at", "id")
    return list(items.values_list("refunded_quantity", flat=True))


# --- snapshots: what a refused action must leave as it was -----------------------------------

# The order's columns a PATCH may touch, or must not.
ORDER_ROW_FIELDS = [
    "status",
    "payment_status",
    *STATUS_TIMESTAMPS.values(),
    "updated_at",
    "total",
    "subtotal",
    "refunded_amount",
    "order_number",
    "store_id",
    "customer_name",
    "customer_notes",
    "internal_notes",
    "po_number",
    "shipping_line1",
    "shipping_city",
    "shipping_province",
    "shipping_country",
    "country_code",
]


def order_row(order) -> dict:
    """The order's ORDER_ROW_FIELDS as stored now."""
    return Order.objects.filter(pk=stored_order(order).pk).values(*ORDER_ROW_FIELDS).get()


def history_count(order) -> int:
    return Order.history.filter(id=stored_order(order).pk).count()


def row_and_history(order) -> tuple[dict, int]:
    """order_row and history_count together: what a refused PATCH or void leaves as it was."""
    return order_row(order), history_count(order)


def order_state(order) -> dict:
    """Everything an action on `order` could change: its status, payment, money and
    updated_at, what hangs off it (history, shipments, notes, refunds, refunded units), and
    what lies beyond it (every variant's stock, every refund, queued mail, the admin log)."""
    fresh = stored_order(order)
    return {
        "status": fresh.status,
        "payment_status": fresh.payment_status,
        "refunded_amount": fresh.refunded_amount,
        "updated_at": fresh.updated_at,
        "history": Order.history.filter(id=fresh.pk).count(),
        "fulfillments": Fulfillment.objects.filter(order=fresh).count(),
        "notes": OrderNote.objects.filter(order=fresh).count(),
        "refunds": Refund.objects.filter(order=fresh).count(),
        "refunded_quantities": refunded_quantities(fresh),
        "stock": dict(Variant.objects.values_list("pk", "stock")),
        "all_refunds": Refund.objects.count(),
        "all_refund_lines": RefundLine.objects.count(),
        "queued_emails": OrderNote.objects.filter(
            notification_status=OrderNote.Notification.PENDING
        ).count(),
        "admin_log": LogEntry.objects.count(),
    }


def stock_of(variant) -> int:
    return Variant.objects.get(pk=variant.pk).stock


# --- the delivery worker -------------------------------------------------------------------


def run_delivery_worker() -> str:
    """`manage.py delivery_worker --until-idle`: every channel (customer emails, webhooks)
    drained of what is due now, in this process; what the worker wrote to stderr.

    The command takes over SIGINT and SIGTERM: pytest gets them back, so Ctrl+C still
    stops the suite. Between rounds it closes stale connections, which inside a test's
    transaction (PostgreSQL) would close the test's own: here it keeps it."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    output = io.StringIO()
    try:
        with mock.patch.object(delivery_worker, "close_old_connections", _keep_connections):
            call_command("delivery_worker", "--until-idle", stdout=io.StringIO(), stderr=output)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return output.getvalue()


def _keep_connections() -> None:
    if not connection.in_atomic_block:
        close_old_connections()


# --- the admin ---------------------------------------------------------------------------


def messages_of(response) -> list[tuple[str, str]]:
    """(level, text) of each message the admin page shows."""
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def last_change(order):
    """The newest entry of the order's status history, as the order page reads it."""
    return stored_status_history(store=order.store, order_ids=[order.pk])[order.pk][-1]


class _FormData(HTMLParser):
    """What a browser submits from the form with id `form_id`: inputs (checked boxes
    only), the selected options and the textareas; the inlines' empty template is left out."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        name = attrs.get("name") or ""
        if not self.inside or "__prefix__" in (name or self.select or ""):
            return
        if tag == "input" and name and attrs.get("type") != "submit":
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self.data[name] = attrs.get("value") or (
                "on" if attrs.get("type") == "checkbox" else ""
            )
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value") or ""
        elif tag == "textarea":
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data


def submitted_form(response, form_id: str) -> dict[str, str]:
    """What a browser would submit, unchanged, from the form `form_id` of an admin page."""
    parser = _FormData(form_id)
    parser.feed(response.content.decode())
    return parser.data


def csv_rows(response) -> list[list[str]]:
    """The rows of a streamed CSV export, its header first."""
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- the schema --------------------------------------------------------------------------


def indexes_and_constraints(tables: list[str]) -> tuple[set, set]:
    """The definitions of every index and constraint of `tables` (PostgreSQL only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
            [tables],
        )
        constraints = set(cursor.fetchall())
    return indexes, constraints


def subprocess_database_url() -> str:
    """The database this test runs on, as DATABASE_URL for a worker subprocess."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"
