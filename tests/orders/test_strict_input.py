"""Strict input on the API (DESIGN.md "HTTP conventions"): a body that is too large, not
JSON, too deep or holding a NUL, a sloppy amount, boolean or quantity, and an empty query
parameter are each a clear 4xx in the error envelope that changes nothing."""

import io
import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from notes.models import OrderNote
from orders.api.parsers import MAX_DEPTH, PayloadTooLarge, StrictJSONParser
from orders.models import Order
from refunds.models import Refund
from tests.factories import make_order, make_shipping_method, make_tax_rate, make_variant
from tests.helpers import (
    api_client,
    assert_error,
    created,
    data_of,
    item_id,
    order_body,
    order_state,
    paid_order,
)

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
SEND_JSON = "Content-Type: application/json"


@pytest.fixture
def mug(store):
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug")


@pytest.fixture
def order(client, store, mug) -> dict:
    """A paid order of two 24.00 mugs (59.27 with shipping and tax), made through the API."""
    return paid_order(client, store, [(mug, 2)])


def refunds_url(order) -> str:
    return f"/v1/orders/{order['id']}/refunds"


def notes_url(order) -> str:
    return f"/v1/orders/{order['id']}/notes"


def post_raw(client, url: str, body, content_type: str = "application/json", **extra):
    return client.generic("POST", url, body, content_type=content_type, **extra)


def assert_refused(response, status: int, code: str, *, fields: tuple[str, ...] = ()) -> dict:
    """The error envelope: `code`, a message, a details list naming exactly `fields`."""
    error = assert_error(response, status, code)
    assert isinstance(error["details"], list)
    assert [detail["field"] for detail in error["details"]] == list(fields)
    assert all(detail["message"] for detail in error["details"])
    return error


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- the body: size, depth, NUL, media type ------------------------------------------------


def test_a_body_of_2000_open_brackets_is_400_before_json_can_recurse(client, order):
    before = order_state(order)

    response = post_raw(client, refunds_url(order), "[" * 2000)

    error = assert_refused(response, 400, "MALFORMED_REQUEST")
    assert f"more than {MAX_DEPTH} levels" in error["message"]
    assert order_state(order) == before


def test_33_levels_of_nesting_are_refused_and_32_are_read(client, order):
    before = order_state(order)

    too_deep = post_raw(client, refunds_url(order), nested(MAX_DEPTH + 1))
    deepest = post_raw(client, refunds_url(order), nested(MAX_DEPTH))

    assert_refused(too_deep, 400, "MALFORMED_REQUEST")
    # 32 levels are parsed; the list is then refused for what it is, not for its depth.
    assert_refused(deepest, 400, "VALIDATION_ERROR", fields=("body",))
    assert order_state(order) == before


def test_brackets_inside_strings_do_not_count_as_nesting(client, order):
    content = "[{" * 100 + '\\"'

    response = client.post(notes_url(order), {"content": content}, format="json")

    assert created(response)["content"] == content


def test_a_body_of_2_7_mb_is_413_before_it_is_read(client, order):
    before = order_state(order)
    body = json.dumps({"reason": "x" * 2_700_000, "amount": "1.00"})

    response = post_raw(client, refunds_url(order), body)

    error = assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1 MB" in error["message"]
    assert f"{len(body):,} bytes" in error["message"]
    assert order_state(order) == before


def chunked(client, url: str, body: bytes, *, terminated: bool = True):
    """A POST whose body comes chunked: no Content-Length, the server's decoded input."""
    extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)}
    if terminated:
        extra["wsgi.input_terminated"] = True
    return client.generic("POST", url, b"", content_type="application/json", **extra)


def test_a_chunked_body_over_1_mb_is_413_from_the_bytes_read(client, order):
    before = order_state(order)
    body = json.dumps({"content": "x" * (MB + 10)}).encode()

    response = chunked(client, notes_url(order), body)

    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert order_state(order) == before


def test_a_chunked_body_within_the_limit_is_read_not_taken_for_empty(client, order):
    response = chunked(client, notes_url(order), b'{"content": "Sent in chunks"}')

    assert created(response)["content"] == "Sent in chunks"


def test_a_chunked_body_the_server_cannot_end_is_411(client, order):
    before = order_state(order)

    response = chunked(client, refunds_url(order), b'{"amount": "1.00"}', terminated=False)

    error = assert_refused(response, 411, "LENGTH_REQUIRED")
    assert "Content-Length" in error["message"]
    assert order_state(order) == before


class BufferedBody(io.BytesIO):
    """A body as Django's ASGI handler hands it over: already read, seekable, sized."""

    def __len__(self) -> int:
        return len(self.getvalue())


def asgi_post(raw_key: str, url: str, body: bytes):
    """A POST through Django's ASGI handler with a body of no stated length (an HTTP/2 or
    chunked request)."""
    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked"),
        (b"x-api-key", raw_key.encode()),
    ]
    request = {"method": "POST", "path": url, "headers": headers, "query_string": ""}
    return async_to_sync(AsyncClient().request)(**request, _body_file=BufferedBody(body))


def test_on_asgi_a_body_of_no_stated_length_is_read_and_limited(api_key, order):
    before = order_state(order)

    too_large = asgi_post(api_key, notes_url(order), b'{"content": "' + b"x" * MB + b'"}')
    assert_refused(too_large, 413, "PAYLOAD_TOO_LARGE")
    assert order_state(order) == before

    made = asgi_post(api_key, notes_url(order), b'{"content": "Over ASGI"}')
    assert created(made)["content"] == "Over ASGI"


def test_the_parser_counts_the_bytes_it_reads_whatever_the_headers_said(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10

    with pytest.raises(PayloadTooLarge):
        StrictJSONParser().parse(io.BytesIO(b'{"content": "eleven+"}'))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"content": "a\\u0000b"}', "content"),
        ('{"content": "ok", "is_internal": true, "x": ["\\u0000"]}', "x[0]"),
        ('{"con\\u0000tent": "hi"}', "body"),
        ('{"content": "a\\ud800b"}', "content"),  # a lone surrogate: no UTF-8 can store it
    ],
    ids=["in-a-value", "in-a-nested-list", "in-a-key", "lone-surrogate"],
)
def test_a_nul_or_lone_surrogate_anywhere_in_the_body_is_400(client, order, body, field):
    before = order_state(order)

    response = post_raw(client, notes_url(order), body)

    assert_refused(response, 400, "MALFORMED_REQUEST", fields=(field,))
    assert order_state(order) == before


def test_a_lone_surrogate_decoded_from_another_charset_is_400_too(client, order):
    body = '{"content": "+2AA-"}'  # UTF-7 for a lone U+D800

    response = post_raw(client, notes_url(order), body, "application/json; charset=utf-7")

    assert_refused(response, 400, "MALFORMED_REQUEST", fields=("content",))
    assert not OrderNote.objects.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"amount": "1.00", "reason": "\xff"}', "not valid utf-8"),
        (b'{"amount": NaN}', "not valid JSON"),
        (b'{"amount": "1.00",}', "not valid JSON"),
        (b'{"amount": ' + b"1" * 5000 + b"}", "thousands of digits"),
    ],
    ids=["invalid-utf8", "nan", "trailing-comma", "5000-digit-number"],
)
def test_a_body_that_is_not_json_text_is_400_malformed_request(client, order, body, words):
    before = order_state(order)

    error = assert_refused(post_raw(client, refunds_url(order), body), 400, "MALFORMED_REQUEST")

    assert words in error["message"]
    assert order_state(order) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"amount": "1.00"}', "text/plain"),
        ("amount=1.00", "application/x-www-form-urlencoded"),
        ('{"amount": "1.00"}', ""),
        ('{"amount": "1.00"}', "application/xml"),
        ('{"amount": "1.00"}', "application/json; charset=bz2_codec"),
    ],
    ids=["text-plain", "form-encoded", "no-content-type", "xml", "non-text-charset"],
)
def test_a_body_that_is_not_json_is_415_saying_to_send_json(client, order, body, content_type):
    before = order_state(order)

    response = post_raw(client, refunds_url(order), body, content_type=content_type)

    error = assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert SEND_JSON in error["message"]
    assert order_state(order) == before


def test_a_multipart_body_is_415(client, order):
    before = order_state(order)

    response = client.post(refunds_url(order), {"amount": "1.00"}, format="multipart")

    assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert order_state(order) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/merge-patch+json", "application/vnd.api+json"],
)
def test_json_with_a_charset_or_a_json_suffix_is_read(client, order, content_type):
    response = post_raw(client, notes_url(order), '{"content": "Suffixed"}', content_type)

    assert created(response)["content"] == "Suffixed"


def test_a_void_and_a_refund_preview_need_no_body_at_all(client, store, mug, order):
    unpaid = data_of(client.post("/v1/orders", order_body(store, [(mug, 1)]), format="json"), 201)

    preview = client.post(f"{refunds_url(order)}/calculate")
    voided = client.post(f"/v1/orders/{unpaid['id']}/void")

    assert data_of(preview)["line_items"][0]["refundable_quantity"] == 2
    assert data_of(voided)["status"] == "voided"


# --- strict values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["\u0661\u0660", "1e2", " 1.00", "1.00 ", "1.005", "-1.00", "+1", "1,00", "NaN", "Infinity",
     "", "0x10", True, None, [], 1.005, -1, 0, 0.001, 10**13, -1e300, -(10**40), "007.50"],
    ids=repr,
)  # fmt: skip
def test_a_sloppy_refund_amount_is_400_naming_amount_and_refunds_nothing(client, order, amount):
    before = order_state(order)

    response = client.post(refunds_url(order), {"amount": amount}, format="json")

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("amount",))
    assert order_state(order) == before


@pytest.mark.parametrize(
    ("amount", "refunded"),
    [("1.00", "1.00"), ("7", "7.00"), ("0.5", "0.50"), (3, "3.00"), (19.99, "19.99"),
     (2.1, "2.10"), (1e1, "10.00"), (12.50, "12.50")],
    ids=repr,
)  # fmt: skip
def test_an_amount_as_a_number_or_a_plain_string_is_refunded_exactly(
    client, order, amount, refunded
):
    data = created(client.post(refunds_url(order), {"amount": amount}, format="json"))

    assert Refund.objects.get().amount == Decimal(refunded)
    assert data["amount"] == float(refunded)


def test_a_json_number_is_read_from_its_exact_text(client, order):
    # As a float 1.000000000000000001 is 1.0; as written it is not a whole number of cents.
    response = post_raw(client, refunds_url(order), '{"amount": 1.000000000000000001}')

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("amount",))
    assert not Refund.objects.exists()


def test_a_json_number_with_an_exponent_is_a_number_like_any_other(client, order):
    created(post_raw(client, refunds_url(order), '{"amount": 1.25E1}'))

    assert Refund.objects.get().amount == Decimal("12.50")


@pytest.mark.parametrize("value", [0, 1, "yes", "true", "false", "on", "", [], {}], ids=repr)
@pytest.mark.parametrize("flag", ["restock", "refund_shipping"])
def test_a_refund_flag_is_true_or_false_only(client, order, flag, value):
    before = order_state(order)

    response = client.post(refunds_url(order), {"amount": "1.00", flag: value}, format="json")

    error = assert_refused(response, 400, "VALIDATION_ERROR", fields=(flag,))
    assert "true or false" in error["details"][0]["message"]
    assert order_state(order) == before


@pytest.mark.parametrize("value", [0, "true", "yes", "false", 1.0], ids=repr)
def test_is_internal_is_true_or_false_only(client, order, value):
    response = client.post(notes_url(order), {"content": "hi", "is_internal": value}, format="json")

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("is_internal",))
    assert not OrderNote.objects.exists()


def test_json_booleans_still_set_the_flags(client, order):
    note = created(
        client.post(notes_url(order), {"content": "hi", "is_internal": False}, format="json")
    )
    refund = created(
        client.post(refunds_url(order), {"amount": "1.00", "refund_shipping": False}, format="json")
    )

    assert note["is_internal"] is False
    assert refund["shipping_amount"] == 0


@pytest.mark.parametrize(
    "quantity", [True, False, 1.5, "\u0661", " 1", "1.0", "one", None], ids=repr
)
def test_a_refund_quantity_is_a_whole_number(client, order, quantity):
    before = order_state(order)
    line = {"line_item_id": item_id(order), "quantity": quantity}

    response = client.post(refunds_url(order), {"line_items": [line]}, format="json")

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("line_items[0].quantity",))
    assert order_state(order) == before


@pytest.mark.parametrize("quantity", [True, 2.5, "\u0662"], ids=repr)
def test_an_order_line_quantity_is_a_whole_number(client, store, mug, quantity):
    body = order_body(store, [(mug, 1)])
    body["line_items"][0]["quantity"] = quantity
    count = Order.objects.count()

    response = client.post("/v1/orders", body, format="json")

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("line_items[0].quantity",))
    assert Order.objects.count() == count


@pytest.mark.parametrize("quantity", [2, 2.0, "2"], ids=repr)
def test_a_whole_quantity_as_integer_integral_number_or_digits_is_taken(client, order, quantity):
    line = {"line_item_id": item_id(order), "quantity": quantity}

    data = data_of(
        client.post(f"{refunds_url(order)}/calculate", {"line_items": [line]}, format="json")
    )

    assert data["line_items"][0]["quantity"] == 2


# --- query parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["status", "date_from", "cursor", "search", "page", "per_page", "sort", "country"]
)
def test_an_empty_list_parameter_is_400_naming_it(client, store, name):
    make_order(store=store)

    response = client.get(f"/v1/orders?{name}=")

    error = assert_refused(response, 400, "VALIDATION_ERROR", fields=(name,))
    assert f"'{name}' is empty" in error["message"]


def test_a_blank_parameter_counts_as_empty(client):
    assert_refused(
        client.get("/v1/orders/count?status=%20"), 400, "VALIDATION_ERROR", fields=("status",)
    )


def test_an_empty_include_adds_nothing(client, store):
    make_order(store=store)

    (listed,) = data_of(client.get("/v1/orders?include="))

    assert "items" not in listed


def test_an_empty_api_key_parameter(anonymous_client, client):
    # Alone it is no key at all; beside a key in the header it is a parameter left empty.
    assert_refused(anonymous_client.get("/v1/orders?api_key="), 401, "MISSING_API_KEY")
    assert_refused(client.get("/v1/orders?api_key="), 400, "VALIDATION_ERROR", fields=("api_key",))


def test_a_nul_in_any_api_parameter_is_400_before_the_key_is_looked_up(anonymous_client):
    response = anonymous_client.get(
        "/v1/orders", {"api_key": "wk_live_ab\x00cdefghijklmnopqrstuvwxyz0123"}
    )

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("api_key",))


def test_a_nul_in_a_parameter_of_a_write_is_400_and_changes_nothing(client, order):
    before = order_state(order)

    response = client.post(f"{refunds_url(order)}?note=%00", {"amount": "1.00"}, format="json")

    assert_refused(response, 400, "VALIDATION_ERROR", fields=("note",))
    assert order_state(order) == before


def test_a_careful_integrators_refund_passes_every_strict_rule(store, api_key, order):
    response = api_client(api_key).post(
        refunds_url(order),
        {"line_items": [{"line_item_id": item_id(order), "quantity": 1}], "refund_shipping": True},
        format="json",
    )

    assert created(response)["amount"] > 0
