"""Domain errors. Services and selectors raise them; one API handler renders them.

Each carries the HTTP status and stable code an integrator branches on, a
message for a person, `details` (the request's fields at fault, each
`{"field", "message"}`; empty when no one field is) and `context` (the
machine-readable specifics of the refusal: the allowed transitions, the
refundable figures, the current ETag…).
"""

from typing import Any

FieldProblem = dict[str, str]


def field_problem(field: str, message: str) -> FieldProblem:
    """One entry of an error's `details`: a field of the request and what is wrong with it."""
    return {"field": field, "message": message}


class OrdoError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        # A list of field_problem()s; only FeatureAccessDenied passes seed 001's object.
        details: list[FieldProblem] | dict[str, str] | None = None,
        context: dict[str, Any] | None = None,
    ):
        self.message = message or self.default_message
        self.details: Any = details if details is not None else []
        self.context: dict[str, Any] = context if context is not None else {}
        super().__init__(self.message)


class InvalidParameters(OrdoError):
    """400: fields or query parameters are malformed. `errors` maps each name to its problems."""

    code = "VALIDATION_ERROR"

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None):
        details = [
            {"field": field, "message": str(msg)}
            for field, messages in errors.items()
            for msg in ([messages] if isinstance(messages, str) else messages)
        ]
        if message is None:
            # Each problem is a sentence that names what it is about, so together they are
            # the message: staff read it in the admin, integrators in the API.
            message = " ".join(dict.fromkeys(detail["message"] for detail in details))
        super().__init__(message, details=details)

    @classmethod
    def naming_fields(cls, errors: dict[str, list[str] | str]) -> "InvalidParameters":
        """For problems whose own words do not say what they are about (django-filter's
        "Enter a number.", several parameters at once): the message lists the names."""
        return cls(errors, message=f"Invalid value for {', '.join(errors)}; see details.")


class UnacceptableValues(InvalidParameters):
    """422: the request is well formed (the published document admits it), but Ordo cannot
    act on it: an id naming nothing in this store, a country it does not know, fields that
    cannot go together. 400 stays for what the document itself refuses."""

    status_code = 422


class ParameterErrors:
    """Collects InvalidParameters from several parsing steps, so one 400 names every bad
    parameter instead of making the client fix them one request at a time."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def collect(self, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except InvalidParameters as error:
            for detail in error.details:
                self.errors.setdefault(detail["field"], []).append(detail["message"])
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidParameters.naming_fields(self.errors)


class NotFound(OrdoError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class InsufficientScope(OrdoError):
    status_code = 403
    code = "INSUFFICIENT_SCOPE"


class FeatureAccessDenied(OrdoError):
    """403: the store's plan lacks the feature (see orders.plans). The one error whose
    `details` is not a list: seed 001's `{"feature": "inventory"}`, which its clients read."""

    status_code = 403
    code = "FEATURE_ACCESS_DENIED"


class InvalidTransition(OrdoError):
    status_code = 422
    code = "INVALID_TRANSITION"


class OrderPaid(OrdoError):
    status_code = 409
    code = "ORDER_PAID"


class OrderNotVoidable(OrdoError):
    status_code = 422
    code = "ORDER_NOT_VOIDABLE"


class InsufficientStock(OrdoError):
    status_code = 422
    code = "INSUFFICIENT_STOCK"


class PreconditionFailed(OrdoError):
    status_code = 412
    code = "PRECONDITION_FAILED"


class IdempotencyKeyReused(OrdoError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(OrdoError):
    status_code = 409
    code = "IDEMPOTENCY_KEY_IN_USE"
