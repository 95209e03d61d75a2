"""The one handler that turns every API error into the envelope.

`{"error": {"code", "message", "details", "request_id"}}` — on 400, 401, 403,
404, 405, 409, 422, 429 and (through RequestIdMiddleware) 500 alike. A domain
error's message is the service's own, followed by the API's next step for its
code (NEXT_STEPS).
"""

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
    "An API key is required: send it in the X-API-Key header (or the api_key query parameter)."
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
    if error.details.get("to") == OrderStatus.VOIDED:
        return "Void it with POST /orders/{id}/void."
    if error.details.get("field") == "payment_status":
        return "Refunds go through POST /orders/{id}/refunds."
    return None


def _after_not_refundable(error: OrdoError) -> str | None:
    details = error.details
    if transitions.voidable(status=details["status"], payment_status=details["payment_status"]):
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


def error_body(*, code: str, message: str, details: Any, request_id: str) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details, "request_id": request_id}
    }


def _describe_drf_exception(exc: exceptions.APIException, view) -> tuple[str, str, Any]:
    code = next((name for cls, name in _CODE_BY_EXCEPTION if isinstance(exc, cls)), "BAD_REQUEST")
    if isinstance(exc, exceptions.ValidationError):
        return code, "The request body is invalid; see details.", validation_details(exc.detail)
    message = str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        message = MISSING_KEY_MESSAGE
    elif isinstance(exc, exceptions.MethodNotAllowed) and view is not None:
        allowed = ", ".join(m for m in view.allowed_methods if m not in {"HEAD", "OPTIONS"})
        message = f"{message} This endpoint accepts: {allowed}."
    elif isinstance(exc, exceptions.ParseError):
        message = f"The request body could not be read: {exc.detail} Send valid JSON."
    return code, message, []


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    request_id = getattr(request, "request_id", "") if request is not None else ""

    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, OrdoError):
        status_code, code, details = exc.status_code, exc.code, exc.details
        message = api_message(exc)
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        code, message, details = _describe_drf_exception(exc, context.get("view"))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None  # RequestIdMiddleware answers 500 in the envelope and logs the traceback

    set_rollback()
    return Response(
        error_body(code=code, message=message, details=details, request_id=request_id),
        status=status_code,
        headers=headers,
    )
