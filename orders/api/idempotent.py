"""The `@idempotent` decorator for POST handlers (see orders/idempotency.py)."""

from functools import wraps

from django.db import transaction
from django.http import HttpResponse

from orders.api.renderers import OrdoJSONRenderer
from orders.idempotency import (
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

REPLAYED_HEADERS = ("ETag", "Location")


def idempotent(handler):
    """Honour `Idempotency-Key` on a POST handler of a StoreScopedView.

    A success (2xx) is stored with the handler's writes in one transaction and
    replayed byte for byte; a failure is not stored, so the key can be retried.
    """

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(
            method=request.method, path=request.path, body=request.data
        )
        claim = idempotency_claim(store=view.store, key=key, fingerprint=fingerprint)
        if claim.replay:
            return _stored_response(claim.record)
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _NotStored(response)
                body = OrdoJSONRenderer().render(response.data)
                headers = {h: response[h] for h in REPLAYED_HEADERS if h in response}
                idempotency_complete(
                    record=claim.record, status=response.status_code, body=body, headers=headers
                )
        except _NotStored as not_stored:
            idempotency_release(record=claim.record)
            return not_stored.response
        except BaseException:
            idempotency_release(record=claim.record)
            raise
        return _plain_response(response.status_code, body, headers)

    return wrapper


class _NotStored(Exception):
    def __init__(self, response):
        self.response = response


def _plain_response(status: int, body: bytes, headers: dict[str, str]) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


def _stored_response(record) -> HttpResponse:
    response = _plain_response(
        record.response_status, bytes(record.response_body), record.response_headers
    )
    response["Idempotent-Replayed"] = "true"
    return response
