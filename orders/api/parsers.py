"""Request bodies of the API: JSON only, at most 1 MB, at most 32 levels deep, no NUL.

Two pieces, because DRF reads the whole `request.body` before it hands a JSON parser
anything (so a parser never sees a Content-Length in time, and Django's own over-size
error would be a 500):

- `RequestBodyGuard`, a middleware, refuses what must be refused before reading: a
  Content-Length over the limit (413), a body that is not JSON (415). It reads a body of
  unknown length (`Transfer-Encoding: chunked`) to at most the limit, so the view sees
  it instead of an empty body, which DRF would take for `{}`.
- `StrictJSONParser` refuses what only the text shows: more bytes than the limit, bad
  UTF-8, malformed JSON, nesting deeper than MAX_DEPTH (before `json` recurses), NUL
  characters and lone surrogates (PostgreSQL stores neither) in keys or strings.
"""

import io
import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from orders.api.errors import error_body
from orders.api.middleware import is_api_path
from orders.api.renderers import dumps
from orders.exceptions import OrdoError

MAX_DEPTH = 32
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SEND_JSON = "Send the body as JSON with the header Content-Type: application/json."
_READ_CHUNK = 64 * 1024


class PayloadTooLarge(OrdoError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(OrdoError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class LengthRequired(OrdoError):
    status_code = 411
    code = "LENGTH_REQUIRED"


class MalformedBody(OrdoError):
    """400: the body is not one readable JSON document (the same code DRF's ParseError
    gets, so clients branch on one name)."""

    code = "MALFORMED_REQUEST"


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(size: int | None = None) -> PayloadTooLarge:
    limit = body_limit()
    sent = f" ({size:,} bytes)" if size is not None else ""
    return PayloadTooLarge(
        f"The request body{sent} is larger than the {limit:,} bytes ({limit / 2**20:g} MB) "
        "the API accepts. Send fewer line items or shorter texts per request."
    )


def is_json_media_type(media_type: str) -> bool:
    """application/json, or any structured `+json` type (RFC 6839), parameters aside."""
    main, _, sub = media_type.strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def depth_check(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH by counting brackets outside strings, so a
    `[`×100000 body is refused here rather than by `json`'s RecursionError (a 500)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # most bodies: too few brackets to be too deep, whatever their strings hold
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode()
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH:
        raise MalformedBody(
            f"The JSON body is nested more than {MAX_DEPTH} levels deep; "
            "no request of this API needs that many."
        )


# A JSON string (an unterminated one runs to the end of the text), and what is not a bracket.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# How a NUL or a lone surrogate reaches the parsed document: as a \u escape, or (a lone
# surrogate, from a charset such as utf-7) raw in the decoded text.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def unstorable_check(value: Any, path: str = "") -> None:
    """Refuse NUL characters and lone surrogates anywhere in the parsed document, keys
    included: PostgreSQL text can hold neither, and no field of an order means one."""
    if isinstance(value, str):
        _refuse_unstorable(value, field=path or "body", what=f"'{path or 'body'}'")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"'{path}'" if path else "the body"
            _refuse_unstorable(key, field=path or "body", what=f"A field name in {where}")
            unstorable_check(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            unstorable_check(item, f"{path}[{index}]")


def _refuse_unstorable(text: str, *, field: str, what: str) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    character = "a NUL character (\\u0000)" if found.group() == "\x00" else "a lone surrogate"
    message = f"{what} holds {character}: remove it and send the text again."
    raise MalformedBody(message, details=[{"field": field, "message": message}])


class JSONNumber(float):
    """A JSON number with a fraction or an exponent. It is the float it always was to
    every field and to idempotency fingerprints, and keeps its exact text, so money
    fields read `19.99` as exactly Decimal("19.99") and `1.005` as three decimals."""

    text: str

    def __new__(cls, text: str) -> "JSONNumber":
        number = super().__new__(cls, text)
        number.text = text
        return number


def _refuse_constant(name: str):
    raise MalformedBody(f"The request body is not valid JSON: {name} is not a JSON number.")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, with the limits of this module's docstring."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        limit = body_limit()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise too_large()
        try:
            encoding = get_encoding(parser_context)
        except ParseError as error:  # a charset that is not a text encoding (bz2_codec)
            raise UnsupportedMediaType(f"{error.detail} {SEND_JSON}") from None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise MalformedBody(
                f"The request body is not valid {encoding} text (byte {error.start}): "
                "send JSON encoded as UTF-8."
            ) from None
        depth_check(text)
        try:
            data = json.loads(text, parse_float=JSONNumber, parse_constant=_refuse_constant)
        except json.JSONDecodeError as error:
            message = f"The request body is not valid JSON: {error}. {SEND_JSON}"
            raise MalformedBody(message) from None
        except ValueError:  # Python's cap on the digits of an integer it reads
            raise MalformedBody(
                "The request body holds a number with thousands of digits; no field takes one "
                "that long."
            ) from None
        if _UNSTORABLE_ESCAPE.search(text) or _UNSTORABLE.search(text):
            unstorable_check(data)  # find where, to name the field
        return data


class RequestBodyGuard:
    """On API paths, before any view reads a write's body: 413 for a Content-Length over
    the limit, 415 for a body that is not JSON, 411 for a chunked body the server cannot
    hand over; a chunked body within the limit is read so the view sees it. A `+json`
    type is named application/json from here on: DRF matches parsers by exact subtype."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in WRITE_METHODS and is_api_path(request.path):
            try:
                self._check(request)
            except OrdoError as error:
                return refusal(request, error)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        declared = _declared_length(request)
        limit = body_limit()
        if declared is not None and limit is not None and declared > limit:
            raise too_large(declared)
        unsized = declared is None and (_is_chunked(request) or isinstance(request, ASGIRequest))
        body = _read_unsized(request) if unsized else None
        if not declared and not body:
            return  # no body: `POST …/void` and `…/refunds/calculate` need none
        media_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
        if not is_json_media_type(media_type):
            sent = f"'{media_type}'" if media_type else "no Content-Type"
            raise UnsupportedMediaType(f"The request body was sent as {sent}. {SEND_JSON}")
        if media_type != "application/json":
            request.META["CONTENT_TYPE"] = "; ".join(
                ["application/json", *(f"{name}={value}" for name, value in params.items())]
            )
        if body is not None:
            _adopt_body(request, body)


def _declared_length(request: HttpRequest) -> int | None:
    """The Content-Length header as a number; None when absent. A malformed one counts
    as absent, as Django reads it (an empty body)."""
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        return 0


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_unsized(request: HttpRequest) -> bytes:
    """A body sent without Content-Length, read to at most the limit and one byte more."""
    limit = body_limit()
    if isinstance(request, ASGIRequest):
        try:  # the server has already buffered it; Django checks its size before reading
            return request.body
        except RequestDataTooBig:
            raise too_large() from None
    if not request.META.get("wsgi.input_terminated"):
        # Without this flag (WSGI's promise that the input ends), reading could wait forever.
        raise LengthRequired(
            "This server cannot read a chunked request body: send it with a Content-Length header."
        )
    stream = request.META["wsgi.input"]
    chunks, size = [], 0
    while limit is None or size <= limit:
        chunk = stream.read(_READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if limit is not None and size > limit:
        raise too_large()
    return b"".join(chunks)


def _adopt_body(request: HttpRequest, body: bytes) -> None:
    """Hand the read body to the request as Django leaves it after reading one itself,
    with the Content-Length DRF looks for before it parses anything."""
    request._body = body
    request._stream = io.BytesIO(body)
    request.META["CONTENT_LENGTH"] = str(len(body))


def refusal(request: HttpRequest, error: OrdoError) -> HttpResponse:
    """`error` in the API's error envelope, for a middleware that answers before DRF."""
    body = error_body(
        code=error.code,
        message=error.message,
        details=error.details,
        request_id=getattr(request, "request_id", ""),
        context=getattr(error, "context", None),
    )
    return HttpResponse(dumps(body), status=error.status_code, content_type="application/json")
