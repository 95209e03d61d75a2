import logging
import re
import secrets

from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("ordo.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


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
    return JsonResponse(
        {
            "error": {
                "code": "INTERNAL_ERROR",
                "message": (
                    "Something went wrong on our side and nothing was changed by this request. "
                    "Retry later; if it keeps happening, contact support with request id "
                    f"{request_id}."
                ),
                "details": [],
                "request_id": request_id,
            }
        },
        status=500,
    )
