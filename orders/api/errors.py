"""The one handler that turns every API error into the envelope.

`{"error": {"code", "message", "details", "context", "request_id"}}` — on 400,
401, 403, 404, 405, 409, 422, 429 and (through RequestIdMiddleware) 500 alike.
`details` is always a list of `{"field", "message"}` (empty when no one field is
at fault), but for FEATURE_ACCESS_DENIED's seed 001 object `{"feature": …}`;
`context` always an object holding the refusal's machine-readable specifics
(`allowed_transitions`, `current_etag`, `retry_after`…). A domain error's
message is the service's own, followed by the API's next step for its code
(NEXT_STEPS).
"""

import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from orders import transitions
from orders.exceptions import NotFound, OrdoError
from orders.models import OrderStatus

_CODE_BY_EXCEPTION: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "MISSING_API_KEY"),
    (exceptions.AuthenticationFailed, "INVALID_API_KEY"),
    (exceptions.PermissionDenied, "FORBIDDEN"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.ParseError, "MALFORMED_REQUEST"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.Throttled, "RATE_LIMITED"),
    (exceptions.ValidationError, "VALIDATION_ERROR"),
]

MISSING_KEY_MESSAGE = (
    "An API key is required: send it in the X-API-Key header, as Authorization: Bearer <key>, "
    "or in the api_key query parameter."
)


def validation_details(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested errors to [{"field": "line_items[0].quantity", "message": …}]."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            if isinstance(key, int):  # DRF keys a list field's errors by position
                field = f"{prefix}[{key}]"
            else:
                name = "" if key == "non_field_errors" else str(key)
                field = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(validation_details(value, field))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(validation_details(item, f"{prefix}[{index}]"))
        return out
    return [{"field": prefix, "message": str(detail)}]


def _after_invalid_transition(error: OrdoError) -> str | None:
    if error.context.get("to") == OrderStatus.VOIDED:
        return "Void it with POST /orders/{id}/void."
    if any(problem["field"] == "payment_status" for problem in error.details):
        return "Refunds go through POST /orders/{id}/refunds."
    return None


def _after_not_refundable(error: OrdoError) -> str | None:
    context = error.context
    if transitions.voidable(status=context["status"], payment_status=context["payment_status"]):
        return "Voids go through POST /orders/{id}/void."
    return None


# What an integrator does next, by error code: routes and headers are the API's to name,
# so the services' messages (read by staff in the admin too) never carry them.
NEXT_STEPS: dict[str, Callable[[OrdoError], str | None]] = {
    "PRECONDITION_FAILED": lambda error: (
        "GET the order again, re-apply your change, and retry with its new ETag in If-Match."
    ),
    "INVALID_TRANSITION": _after_invalid_transition,
    "ORDER_PAID": lambda error: "Refunds go through POST /orders/{id}/refunds.",
    "ORDER_NOT_REFUNDABLE": _after_not_refundable,
}


def api_message(error: OrdoError) -> str:
    """The service's message, and what to do next through the API when that is a route."""
    next_step = NEXT_STEPS.get(error.code, lambda error: None)(error)
    return f"{error.message} {next_step}" if next_step else error.message


def error_body(
    *,
    code: str,
    message: str,
    details: Any,
    request_id: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "context": context if context is not None else {},
            "request_id": request_id,
        }
    }


def _describe_drf_exception(
    exc: exceptions.APIException, view
) -> tuple[str, str, list[dict[str, str]], dict[str, Any]]:
    """Code, message, details and context of one of DRF's own exceptions."""
    code = next((name for cls, name in _CODE_BY_EXCEPTION if isinstance(exc, cls)), "BAD_REQUEST")
    if isinstance(exc, exceptions.ValidationError):
        details = validation_details(exc.detail)
        return code, "The request body is invalid; see details.", details, {}
    message = str(exc.detail)
    context: dict[str, Any] = {}
    if isinstance(exc, exceptions.NotAuthenticated):
        message = MISSING_KEY_MESSAGE
    elif isinstance(exc, exceptions.MethodNotAllowed) and view is not None:
        allowed = [m for m in view.allowed_methods if m not in {"HEAD", "OPTIONS"}]
        message = f"{message} This endpoint accepts: {', '.join(allowed)}."
        context["allowed_methods"] = allowed
    elif isinstance(exc, exceptions.ParseError):
        message = f"The request body could not be read: {exc.detail} Send valid JSON."
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        context["retry_after"] = _whole_seconds(exc.wait)
    return code, message, [], context


def _whole_seconds(wait: float) -> int:
    # Never 0: "retry after 0 s" invites a client to hammer the limit it just hit.
    return max(1, math.ceil(wait))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    request_id = getattr(request, "request_id", "") if request is not None else ""

    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, OrdoError):
        status_code, code, details, specifics = exc.status_code, exc.code, exc.details, exc.context
        message = api_message(exc)
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        code, message, details, specifics = _describe_drf_exception(exc, context.get("view"))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(_whole_seconds(exc.wait))
    else:
        return None  # RequestIdMiddleware answers 500 in the envelope and logs the traceback

    set_rollback()
    body = error_body(
        code=code, message=message, details=details, context=specifics, request_id=request_id
    )
    return Response(body, status=status_code, headers=headers)
