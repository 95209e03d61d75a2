"""OpenAPI descriptions of the orders API's parameters and envelopes (drf-spectacular).

The document is a contract that generated clients and schemathesis hold Ordo
to, in both directions: every value it admits must be accepted, and every value
it excludes must be refused. So each parameter's schema says exactly what its
parser takes (patterns spell out the case-insensitivity and the spaces the
parsers forgive), no default is declared that would clash with another way of
paging, and every component is built once (drf-spectacular warns on two
components of one name).

Hence the line between 400 and 422: a 400 is a request the document itself
refuses (a type, a pattern, a bound, an unknown field); a 422 is one the
document admits that Ordo cannot act on (an id naming nothing in this store,
fields that cannot go together, a move the order's state forbids).
"""

import functools

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from orders.api.includes import available_includes
from orders.api.pagination import COUNT_MODES, MAX_OFFSET, MAX_PER_PAGE
from orders.api.patterns import (
    SPACE,
    SPACES,
    choice_pattern,
    comma_list_pattern,
    one_of_pattern,
)
from orders.filters import (
    COUNTRY_CODE_PATTERN,
    ORDER_NUMBER_PATTERN,
    CountryCodeFilter,
    DateBoundFilter,
    ListFilter,
    OrderFilterSet,
)
from orders.idempotency import KEY_PATTERN
from orders.ids import public_id_pattern
from orders.models import Customer, Order, OrderStatus, PaymentStatus
from orders.plans import FEATURE_PLANS
from orders.selectors import SORT_FIELDS
from orders.transitions import STATUS_ALIASES

Q = OpenApiParameter.QUERY
# What every text parameter refuses: NUL characters (check_parameters), and a value that is
# empty or only spaces (never silently ignored).
_TEXT = rf"^[^\u0000]*[^{SPACE}\u0000][^\u0000]*$"


def query_parameter(name: str, description: str, schema: dict, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, schema, Q, description=description, **kwargs)


_LIST_ITEMS = {
    "status": choice_pattern([*OrderStatus.values, *STATUS_ALIASES]),
    "payment_status": choice_pattern([*PaymentStatus.values, "all"]),
    "customer_id": public_id_pattern(Customer.PUBLIC_ID_PREFIX)[1:-1],
    "order_number": ORDER_NUMBER_PATTERN,
}
DATE_OR_DATE_TIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


def _filter_schema(name: str, filter_: django_filters.Filter) -> dict:
    """The schema of one filter of the order list, from its class: what its form field takes."""
    if isinstance(filter_, ListFilter):
        return {"type": "string", "pattern": comma_list_pattern(_LIST_ITEMS[name])}
    if isinstance(filter_, DateBoundFilter):
        return DATE_OR_DATE_TIME
    if isinstance(filter_, django_filters.NumberFilter):
        # django-filter caps numbers at 1e50 (larger ones overflow the database's numeric).
        return {"type": "number", "minimum": 0, "maximum": 1e50}
    if isinstance(filter_, django_filters.ChoiceFilter):
        return {"type": "string", "enum": [value for value, _ in filter_.extra["choices"]]}
    if isinstance(filter_, CountryCodeFilter):
        return {"type": "string", "pattern": f"^{SPACES}{COUNTRY_CODE_PATTERN}{SPACES}$"}
    schema = {"type": "string", "pattern": _TEXT}
    if filter_.extra.get("max_length"):
        schema["maxLength"] = filter_.extra["max_length"]
    return schema


# Generated from the filter set, so the document names exactly the filters the list takes.
FILTER_DOC_PARAMETERS = [
    query_parameter(name, filter_.extra["help_text"], _filter_schema(name, filter_))
    for name, filter_ in OrderFilterSet.base_filters.items()
]

_SORT_ITEM = f"{SPACES}[+-]?{SPACES}{choice_pattern(SORT_FIELDS)}{SPACES}"
_INCLUDE_ITEM = f"{SPACES}{choice_pattern(available_includes())}?{SPACES}"

PAGING_DOC_PARAMETERS = [
    query_parameter(
        "page",
        f"Page number, from 1 (default 1). Pages reach {MAX_OFFSET:,} rows deep "
        "((page - 1) × per_page); follow `next_cursor` beyond.",
        {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET + 1},
    ),
    query_parameter(
        "per_page",
        f"Orders per page, 1 to {MAX_PER_PAGE} (default 25).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    ),
    query_parameter(
        "limit",
        "Alias of per_page (seed 003, with offset).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    ),
    query_parameter(
        "offset",
        f"Rows to skip instead of page, up to {MAX_OFFSET:,}; follow `next_cursor` beyond. "
        "Not with page or cursor.",
        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    ),
    query_parameter(
        "cursor",
        "Keyset cursor: pass `pagination.next_cursor` of the previous response unchanged to "
        "continue, with the same sort. Stable under concurrent inserts, any depth; a page "
        "reached by cursor does not count (`total` is null). Not with page or offset.",
        {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
    ),
    query_parameter(
        "count",
        "How `pagination.total` is counted: `exact` (default on page and offset paging), "
        "`estimate` (the planner's estimate, `total_is_estimate: true`; fast on big stores) "
        "or `none` (no count, `total` null).",
        {"type": "string", "enum": list(COUNT_MODES)},
    ),
]

LIST_PARAMETERS = [
    *FILTER_DOC_PARAMETERS,
    *PAGING_DOC_PARAMETERS,
    query_parameter(
        "sort",
        "Comma list of " + ", ".join(SORT_FIELDS) + "; prefix `-` for descending. "
        "Default -created_at. Ties are broken by id; each field once.",
        {"type": "string", "pattern": f"^{_SORT_ITEM}(?:,{_SORT_ITEM})*$"},
    ),
    query_parameter(
        "order",
        "Direction for sort fields without a prefix (default asc).",
        {"type": "string", "pattern": one_of_pattern(["asc", "desc"])},
    ),
    query_parameter(
        "include",
        "Related lists to add, comma separated: "
        + ", ".join(available_includes())
        + " (shipments = fulfillments). Default: items. An empty value adds nothing.",
        {"type": "string", "pattern": f"^{_INCLUDE_ITEM}(?:,{_INCLUDE_ITEM})*$"},
    ),
]


def path_id(name: str, prefix: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "example": f"{prefix}0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"},
        OpenApiParameter.PATH,
        description=f"{prefix}… (another store's id is a 404 like a missing one)",
    )


ORDER_ID = path_id("order_id", Order.PUBLIC_ID_PREFIX)
INCLUDE_DETAIL = query_parameter(
    "include",
    "Extra related lists, comma separated: " + ", ".join(available_includes()) + ".",
    {"type": "string", "pattern": f"^{_INCLUDE_ITEM}(?:,{_INCLUDE_ITEM})*$"},
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": KEY_PATTERN.replace("\\x", "\\u00")},
    OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe: the same key with the same body replays the first response "
        "(kept 24 h); with another body it is 422 IDEMPOTENCY_KEY_REUSED; while the first "
        "request runs, 409 IDEMPOTENCY_KEY_IN_USE."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The order's ETag as you last read it; 412 PRECONDITION_FAILED if it changed since."
    ),
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you hold: 304 Not Modified, with no body, while it is still current.",
)


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "array",
                "description": "What is wrong with each field at fault (empty when none is)",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {
                            "type": "string",
                            "description": "e.g. status, line_items[0].quantity; '' for none",
                        },
                        "message": {"type": "string"},
                    },
                    "required": ["field", "message"],
                },
            },
            {
                "type": "object",
                "description": "FEATURE_ACCESS_DENIED only (seed 001): the feature needed",
                "properties": {"feature": {"type": "string", "enum": list(FEATURE_PLANS)}},
                "required": ["feature"],
            },
        ]
    }
)
class ErrorDetailsField(serializers.Field):
    pass


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: VALIDATION_ERROR, NOT_FOUND, …")
    message = serializers.CharField(help_text="For people: what was wrong and what to do")
    details = ErrorDetailsField()
    context = serializers.DictField(
        help_text=(
            "The refusal's specifics: INVALID_TRANSITION from, to, allowed_transitions; REFUND_* "
            "the refundable figures; PRECONDITION_FAILED current_etag; RATE_LIMITED retry_after"
        )
    )
    request_id = serializers.CharField(help_text="Quote it to support")


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorSerializer()


ERROR_RESPONSE = ErrorResponseSerializer


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR_RESPONSE, description=description)


ERRORS = {
    400: _error("VALIDATION_ERROR: a parameter or field is invalid (details name each)"),
    401: _error("MISSING_API_KEY or INVALID_API_KEY"),
    403: _error("INSUFFICIENT_SCOPE, or FEATURE_ACCESS_DENIED for a premium feature"),
    404: _error("NOT_FOUND (also for another store's ids)"),
    429: _error("RATE_LIMITED: wait Retry-After seconds"),
}

WRITE_ERRORS = {
    **ERRORS,
    400: _error(
        "VALIDATION_ERROR (a field is invalid; details name each) or MALFORMED_REQUEST "
        "(not JSON, nested deeper than 32 levels, or holding NUL characters)"
    ),
    409: _error("ORDER_PAID, IDEMPOTENCY_KEY_IN_USE, DELIVERY_IN_PROGRESS"),
    411: _error("LENGTH_REQUIRED: a chunked body the server cannot bound; send Content-Length"),
    412: _error("PRECONDITION_FAILED: If-Match is stale (context.current_etag)"),
    413: _error("PAYLOAD_TOO_LARGE: the body is over 1 MB"),
    415: _error("UNSUPPORTED_MEDIA_TYPE: send the body as application/json"),
    422: _error(
        "Well formed, but Ordo cannot act on it: VALIDATION_ERROR (an id naming nothing in "
        "this store, an unknown country, fields that cannot go together), "
        "INVALID_TRANSITION, INSUFFICIENT_STOCK, ORDER_NOT_VOIDABLE, ORDER_NOT_REFUNDABLE, "
        "REFUND_*, IDEMPOTENCY_KEY_REUSED (context says why)"
    ),
}

UNKNOWN_STARTING_POINT = _error(
    "VALIDATION_ERROR: starting_after names no event of this store (or one older than 30 days)"
)

NOT_MODIFIED = {304: OpenApiResponse(description="Not Modified: your ETag is still current")}

_PAGINATION = inline_serializer(
    "Pagination",
    {
        "page": serializers.IntegerField(allow_null=True, help_text="null on cursor pages"),
        "per_page": serializers.IntegerField(),
        "total": serializers.IntegerField(
            allow_null=True, help_text="null on cursor pages and with count=none"
        ),
        "total_pages": serializers.IntegerField(allow_null=True),
        "total_is_estimate": serializers.BooleanField(),
        "has_more": serializers.BooleanField(),
        "next_cursor": serializers.CharField(allow_null=True),
        "limit": serializers.IntegerField(required=False, help_text="with limit/offset paging"),
        "offset": serializers.IntegerField(required=False, help_text="with limit/offset paging"),
    },
)

_LIST_META = inline_serializer(
    "OrderListMeta",
    {
        "tenant_id": serializers.CharField(help_text="The store's id (str_…)"),
        "filters": serializers.DictField(
            help_text="The filters as understood: aliases resolved, bare dates' UTC instants"
        ),
        "sort": serializers.CharField(),
        "include": serializers.ListField(child=serializers.CharField()),
        "pagination": _PAGINATION,
        "timings_ms": serializers.DictField(child=serializers.FloatField()),
    },
)


@functools.cache
def order_list_response(serializer_class):
    return inline_serializer(
        "OrderListResponse",
        {
            "object": serializers.CharField(default="list"),
            "data": serializer_class(many=True),
            "pagination": _PAGINATION,
            "meta": _LIST_META,
        },
    )


@functools.cache
def paged_list_response(serializer_class, name: str):
    """A list paged like the order list, whose `meta` holds the filters as understood."""
    return inline_serializer(
        f"{name}Response",
        {
            "object": serializers.CharField(default="list"),
            "data": serializer_class(many=True),
            "pagination": _PAGINATION,
            "meta": inline_serializer(
                f"{name}Meta",
                {
                    "filters": serializers.DictField(),
                    "sort": serializers.CharField(),
                    "pagination": _PAGINATION,
                    "timings_ms": serializers.DictField(child=serializers.FloatField()),
                },
            ),
        },
    )


@functools.cache
def object_response(serializer_class):
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(f"{name}Response", {"data": serializer_class()})


@functools.cache
def plain_list_response(serializer_class, name: str):
    return inline_serializer(
        name, {"object": serializers.CharField(default="list"), "data": serializer_class(many=True)}
    )
