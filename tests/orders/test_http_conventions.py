"""The HTTP conventions integrators' tools rely on (DESIGN.md "HTTP conventions"): gzip,
ETag and 304, `Cache-Control: no-store`, a JSON 404 for every unknown API route, and CORS
off unless origins are listed."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from orders.models import Order
from tests.factories import make_order
from tests.helpers import api_client, assert_error, data_of

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"code", "message", "details", "context", "request_id"}
ORIGIN = "https://app.example.com"
# What a browser client needs to send and to read (DESIGN.md "HTTP conventions").
CLIENT_REQUEST_HEADERS = {
    "x-api-key",
    "authorization",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-request-id",
    "content-type",
}
EXPOSED_RESPONSE_HEADERS = {
    "etag",
    "link",
    "x-request-id",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "location",
}


@pytest.fixture
def order(store):
    return make_order(store=store, items=3)


def order_url(order) -> str:
    return f"/v1/orders/{order.public_id}"


def header_list(response, name: str) -> set[str]:
    """A comma-list header's items, lowercased."""
    return {item.strip().lower() for item in response.get(name, "").split(",") if item.strip()}


def assert_not_modified(response, etag: str) -> None:
    assert response.status_code == 304, response.content
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "no-store"
    assert "Content-Type" not in response
    assert response["X-Request-Id"]


# --- gzip ------------------------------------------------------------------------------------


def test_an_order_is_gzipped_when_the_client_accepts_it(client, order):
    plain = client.get(order_url(order))

    zipped = client.get(order_url(order), HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert zipped.status_code == 200
    assert zipped["Content-Encoding"] == "gzip"
    assert "accept-encoding" in header_list(zipped, "Vary")
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content)
    # The compressed bytes are another representation: the same tag, marked weak.
    assert zipped["ETag"] == f"W/{plain['ETag']}"


def test_a_list_is_gzipped_too(client, store):
    for _ in range(3):
        make_order(store=store)

    response = client.get("/v1/orders", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["data"]) == 3


def test_without_accept_encoding_the_body_is_plain_but_still_varies_on_it(client, order):
    response = client.get(order_url(order))

    assert "Content-Encoding" not in response
    assert response.json()["data"]["id"] == order.public_id
    assert "accept-encoding" in header_list(response, "Vary")


def test_an_error_is_gzipped_like_any_answer(client):
    # Large enough that Django's random padding (up to 100 bytes, against BREACH) never
    # makes compressing it pointless.
    bad = {"per_page": "0", "status": "bogus", "sort": "nope", "country_code": "USA"}

    response = client.get("/v1/orders", bad, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 400
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["error"]["code"] == "VALIDATION_ERROR"


def test_an_answer_too_short_to_compress_still_says_it_varies_on_accept_encoding(client):
    response = client.get("/v1/orders/count", HTTP_ACCEPT_ENCODING="gzip")

    assert response.json() == {"data": {"count": 0}}
    assert "Content-Encoding" not in response
    assert "accept-encoding" in header_list(response, "Vary")


def test_the_openapi_document_is_gzipped(anonymous_client):
    response = anonymous_client.get("/v1/openapi.json", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/admin/login/", "/v1/docs"])
def test_pages_holding_a_csrf_token_are_never_gzipped(anonymous_client, path):
    # BREACH: a compressed page holding a secret beside reflected text leaks the secret.
    response = anonymous_client.get(path, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert "csrf" in response.content.decode().lower()


# --- ETag and 304 ----------------------------------------------------------------------------


def test_if_none_match_with_the_current_etag_is_304_with_an_empty_body(client, order):
    etag = client.get(order_url(order))["ETag"]

    response = client.get(order_url(order), HTTP_IF_NONE_MATCH=etag)

    assert_not_modified(response, etag)


@pytest.mark.parametrize(
    "if_none_match",
    ["W/{etag}", '"stale", {etag}', '"stale",W/{etag} , "other"', "*", " * "],
    ids=["weak", "list", "list-weak", "star", "star-spaced"],
)
def test_if_none_match_compares_weakly_and_takes_lists_and_star(client, order, if_none_match):
    etag = client.get(order_url(order))["ETag"]

    response = client.get(order_url(order), HTTP_IF_NONE_MATCH=if_none_match.format(etag=etag))

    assert_not_modified(response, etag)


def test_head_with_the_current_etag_is_304(client, order):
    etag = client.get(order_url(order))["ETag"]

    assert_not_modified(client.head(order_url(order), HTTP_IF_NONE_MATCH=etag), etag)


def test_the_weak_etag_of_a_gzipped_order_revalidates_to_a_304_repeating_it(client, order):
    zipped_etag = client.get(order_url(order), HTTP_ACCEPT_ENCODING="gzip")["ETag"]
    assert zipped_etag.startswith("W/")

    response = client.get(
        order_url(order), HTTP_IF_NONE_MATCH=zipped_etag, HTTP_ACCEPT_ENCODING="gzip"
    )

    assert_not_modified(response, zipped_etag)
    assert "Content-Encoding" not in response
    assert "accept-encoding" in header_list(response, "Vary")


def test_the_store_scoped_route_answers_304_too(client, store, order):
    url = f"/v1/stores/{store.public_id}/orders/{order.public_id}"
    etag = client.get(url)["ETag"]

    assert_not_modified(client.get(url, HTTP_IF_NONE_MATCH=etag), etag)


def test_a_stale_etag_gets_the_full_order(client, order):
    stale = client.get(order_url(order))["ETag"]
    data_of(client.patch(order_url(order), {"status": "confirmed"}, format="json"))

    response = client.get(order_url(order), HTTP_IF_NONE_MATCH=stale)

    assert data_of(response)["status"] == "confirmed"
    assert response["ETag"] != stale


@pytest.mark.parametrize("if_none_match", ["", "garbage-without-quotes", 'W/"', '"a'])
def test_an_unreadable_if_none_match_matches_nothing(client, order, if_none_match):
    response = client.get(order_url(order), HTTP_IF_NONE_MATCH=if_none_match)

    assert data_of(response)["id"] == order.public_id


def test_a_write_with_a_matching_if_none_match_is_done_never_answered_304(client, order):
    etag = client.get(order_url(order))["ETag"]

    response = client.patch(
        order_url(order), {"status": "confirmed"}, format="json", HTTP_IF_NONE_MATCH=etag
    )

    assert data_of(response)["status"] == "confirmed"
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_a_404_is_never_turned_into_a_304(client, other_store):
    foreign = make_order(store=other_store)

    response = client.get(order_url(foreign), HTTP_IF_NONE_MATCH="*")

    assert_error(response, 404, "NOT_FOUND")


def test_a_response_without_an_etag_is_never_304(client, order):
    response = client.get("/v1/orders", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 200
    assert "ETag" not in response
    assert [o["id"] for o in response.json()["data"]] == [order.public_id]


# --- Cache-Control ---------------------------------------------------------------------------


def test_every_api_answer_is_no_store(client, anonymous_client, order):
    answers = {
        "order": client.get(order_url(order)),
        "list": client.get("/v1/orders"),
        "seed 004 route": client.get("/api/orders"),
        "refused write": client.patch(order_url(order), {"status": "bogus"}, format="json"),
        "401": anonymous_client.get("/v1/orders"),
        "400": client.get("/v1/orders", {"per_page": "0"}),
        "404": client.get("/v1/nowhere"),
        "405": client.delete("/v1/orders/count"),
    }
    for name, response in answers.items():
        assert response["Cache-Control"] == "no-store", name


def test_the_500_envelope_is_no_store_with_empty_details_and_context(api_key):
    client = api_client(api_key, raise_request_exception=False)

    with mock.patch("orders.selectors.order_count_matching", side_effect=RuntimeError("boom")):
        response = client.get("/v1/orders/count")

    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert set(error) == ENVELOPE_KEYS
    assert error["details"] == []
    assert error["context"] == {}
    assert response["Cache-Control"] == "no-store"


def test_the_published_contract_may_be_cached(anonymous_client):
    # The same for everyone and free of store data (orders.api.middleware explains).
    response = anonymous_client.get("/v1/openapi.json")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_docs_page_with_its_csrf_cookie_is_never_stored(anonymous_client):
    response = anonymous_client.get("/v1/docs")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


# --- JSON 404 on every unknown route ---------------------------------------------------------

UNKNOWN_ROUTES = [
    "/v1",
    "/v1/",
    "/api",
    "/api/",
    "/v1/nope",
    "/v1/nope/",
    "/api/nope",
    "/api/nope/",
    "/v1/stores",
    "/v1/stores/",
    "/v1/stores/x/nope",
    "/v1/stores/x/orders/ord_x/nope",
    "/v1/orders/ord_x/nope",
    "/v1/orders//",
    "/v1/openapi.json/",
    "/v1/docs/",
    "/v1/%00",
    "/v1/orders/%00/nope",
    "/v1/%0A",
    "/v1/a%0Ab",
    "/v1/%ff",
]


def assert_json_404(response) -> None:
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    error = assert_error(response, 404, "NOT_FOUND")
    assert set(error) == ENVELOPE_KEYS
    assert error["details"] == []
    assert "/v1/docs" in error["message"]


@pytest.mark.parametrize("path", UNKNOWN_ROUTES)
def test_an_unknown_api_route_is_a_json_404(client, anonymous_client, path):
    assert_json_404(client.get(path))
    assert_json_404(anonymous_client.get(path))


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/v1/nope", "/api/nope/", "/v1", "/v1/orders/ord_x/nope"])
def test_an_unknown_api_route_is_a_json_404_whatever_the_method(client, method, path):
    count = Order.objects.count()

    assert_json_404(getattr(client, method)(path, {"status": "x"}, format="json"))
    assert Order.objects.count() == count


def test_head_on_an_unknown_route_is_404_without_a_body(client):
    response = client.head("/v1/nope")

    assert response.status_code == 404
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"


def test_a_path_outside_the_api_keeps_djangos_404(anonymous_client):
    response = anonymous_client.get("/v1nope")

    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]
    assert "Cache-Control" not in response


# --- CORS ------------------------------------------------------------------------------------


def preflight(client, path: str = "/v1/orders", *, origin: str = ORIGIN, method: str = "PATCH"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key, idempotency-key, content-type",
    )


@pytest.fixture
def cors_on(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]


@pytest.fixture
def cors_off(settings):
    settings.CORS_ALLOWED_ORIGINS = []


def test_cors_is_off_by_default(cors_off, client, anonymous_client, order):
    actual = client.get(order_url(order), HTTP_ORIGIN=ORIGIN)
    asked = preflight(anonymous_client)

    assert actual.status_code == 200
    assert "Access-Control-Allow-Origin" not in actual
    assert "Access-Control-Allow-Origin" not in asked
    assert "Access-Control-Allow-Headers" not in asked


def test_a_preflight_from_a_listed_origin_is_200_without_an_api_key(cors_on, anonymous_client):
    count = Order.objects.count()

    response = preflight(anonymous_client, "/v1/orders/ord_x", method="PATCH")

    assert response.status_code == 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert CLIENT_REQUEST_HEADERS <= header_list(response, "Access-Control-Allow-Headers")
    assert {"get", "post", "patch", "delete"} <= header_list(
        response, "Access-Control-Allow-Methods"
    )
    assert "Access-Control-Allow-Credentials" not in response
    assert response["Cache-Control"] == "no-store"
    assert Order.objects.count() == count


def test_a_request_from_a_listed_origin_may_read_the_api_headers(cors_on, client, order):
    response = client.get(order_url(order), HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert EXPOSED_RESPONSE_HEADERS <= header_list(response, "Access-Control-Expose-Headers")
    assert "origin" in header_list(response, "Vary")


def test_a_304_to_a_listed_origin_keeps_its_cors_headers(cors_on, client, order):
    etag = client.get(order_url(order))["ETag"]

    response = client.get(order_url(order), HTTP_ORIGIN=ORIGIN, HTTP_IF_NONE_MATCH=etag)

    assert_not_modified(response, etag)
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_an_error_to_a_listed_origin_is_readable_by_the_browser(cors_on, anonymous_client):
    response = anonymous_client.get("/v1/orders", HTTP_ORIGIN=ORIGIN)

    assert_error(response, 401, "MISSING_API_KEY")
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_an_unlisted_origin_gets_no_cors_headers(cors_on, client, anonymous_client, order):
    actual = client.get(order_url(order), HTTP_ORIGIN="https://evil.example")
    asked = preflight(anonymous_client, origin="https://evil.example")

    assert actual.status_code == 200
    assert "Access-Control-Allow-Origin" not in actual
    assert "Access-Control-Allow-Origin" not in asked


def test_the_admin_never_answers_cors(cors_on, anonymous_client):
    response = anonymous_client.get("/admin/login/", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_cors_allowed_origins_is_read_from_the_environment():
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.CORS_ALLOWED_ORIGINS)"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "ORDO_ENV_FILE": "/nonexistent/.env",
        "CORS_ALLOWED_ORIGINS": " https://app.example.com, ,http://localhost:5173 ",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['https://app.example.com', 'http://localhost:5173']"


def test_an_order_asked_with_includes_is_never_a_stale_304(client, store):
    """The ETag versions the order and its items and fulfillments; a note added since does
    not change it, so a GET that includes notes always sends the body."""
    from tests.factories import make_order

    order = make_order(store=store)
    path = f"/v1/orders/{order.public_id}"
    first = client.get(path, {"include": "notes"})
    client.post(f"{path}/notes", {"content": "Called the customer"}, format="json")

    again = client.get(path, {"include": "notes"}, HTTP_IF_NONE_MATCH=first["ETag"])
    plain = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert [note["content"] for note in again.json()["data"]["notes"]] == ["Called the customer"]
    assert plain.status_code == 304
