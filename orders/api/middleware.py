"""The API's HTTP plumbing, around every view: request ids and the last-resort 500, the
`Cache-Control` and `Vary` an integrator's HTTP stack reads, gzip, and 304 Not Modified.

Each class acts on API paths (`/v1…`, `/api…`) only; the staff admin keeps Django's defaults.
"""

import logging
import re
import secrets

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

logger = logging.getLogger("ordo.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# The published contract: the same for every caller and free of store data. (Its Swagger
# UI page is not: it sets a CSRF cookie, which a shared cache must never hand around.)
DOCUMENT_PATHS = frozenset({"/v1/openapi.json"})
# Headers that describe a body; a 304 has none (RFC 9110 §15.4.5).
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Content-Language")


def is_api_path(path: str) -> bool:
    return path.startswith(("/v1/", "/api/")) or path in {"/v1", "/api"}


class RequestIdMiddleware:
    """Gives every request an id (the client's `X-Request-Id` when sane), echoed on the response.

    For API paths it is also the last net under the views: an exception that
    escaped everything else becomes a 500 in the error envelope, with the id an
    integrator can quote to support, never an HTML traceback.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        client_id = request.headers.get("X-Request-Id", "")
        request.request_id = (
            client_id if _CLIENT_REQUEST_ID.match(client_id) else f"req_{secrets.token_hex(12)}"
        )
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return internal_error_response(request)


def internal_error_response(request: HttpRequest) -> JsonResponse:
    request_id = getattr(request, "request_id", "")
    response = JsonResponse(
        {
            "error": {
                "code": "INTERNAL_ERROR",
                "message": (
                    "Something went wrong on our side and nothing was changed by this request. "
                    "Retry later; if it keeps happening, contact support with request id "
                    f"{request_id}."
                ),
                "details": [],
                "context": {},
                "request_id": request_id,
            }
        },
        status=500,
    )
    # Also set here, not only by ApiCacheControlMiddleware, for a caller outside the stack.
    response["Cache-Control"] = "no-store"
    return response


class ApiCacheControlMiddleware:
    """`Cache-Control: no-store` on every API response: errors, 304s and 500s included.

    API responses hold customers' names, addresses and order details, and the key
    that fetched them is not a cookie a shared cache would know to key on, so no
    cache (a CDN, a corporate proxy, the browser's disk) may keep a copy. The
    OpenAPI document is left to Django's defaults: it holds no store data and is
    the same for everyone. The Swagger UI page is not left alone: it sets a CSRF
    cookie, and a cached copy would give every visitor the same token.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_api_path(request.path) and request.path not in DOCUMENT_PATHS:
            response["Cache-Control"] = "no-store"
        return response


class ApiConditionalGetMiddleware:
    """304 Not Modified to a GET or HEAD whose `If-None-Match` names the response's ETag.

    Generic: any 2xx API response that carries an `ETag` (an order, the store)
    gets it, so no view repeats the comparison. Comparison is weak and `*`
    matches any current representation (RFC 9110 §13.1.2): the ETag a gzipped
    response carried (`W/"…"`) matches the same order sent uncompressed. Writes
    and non-2xx answers pass untouched: a 304 to a PATCH would hide the change
    it made, and a 304 to a 404 would claim the resource exists.

    Placed outside GZip so the 304 repeats exactly the ETag and Vary the 200
    would have sent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method in {"GET", "HEAD"}
            and 200 <= response.status_code < 300
            and is_api_path(request.path)
            and response.has_header("ETag")
            and getattr(response, "etag_covers_body", True)
            and etag_matches(request.headers.get("If-None-Match"), response["ETag"])
        ):
            return not_modified(response)
        return response


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` value (one tag, a comma list, or `*`) names `etag`,
    by weak comparison (the `W/` prefix is ignored on both sides)."""
    if not if_none_match:
        return False
    offered = parse_etags(if_none_match)
    if offered == ["*"]:
        return True
    return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in offered}


def not_modified(response: HttpResponse) -> HttpResponseNotModified:
    """An empty 304 with the headers `response` carried except those describing its body:
    ETag, Vary, CORS and rate-limit headers stay, so a browser client can still read it."""
    result = HttpResponseNotModified()
    for name, value in response.items():
        if name.title() not in _BODY_HEADERS:
            result[name] = value
    result.cookies = response.cookies
    return result


class ApiGZipMiddleware(GZipMiddleware):
    """Gzip for API responses (and the OpenAPI document) when the client accepts it.

    Limited to the API because of BREACH: compressing a page that holds a secret
    beside text an attacker can get reflected lets the compressed size leak the
    secret. The admin's pages hold CSRF tokens and echo search terms, and so does
    the Swagger UI page (`/v1/docs`), so they stay uncompressed. API responses
    carry no CSRF token and are fetched with an API key a cross-site page cannot
    make the browser send, so the attack has nothing to read. (Django's
    `max_random_bytes` padding is kept as a second line.)

    Every API response says `Vary: Accept-Encoding`, even one too short to be
    worth compressing, so a cache never has to guess which ones were.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not is_api_path(request.path) or request.path == "/v1/docs":
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        return super().process_response(request, response)
