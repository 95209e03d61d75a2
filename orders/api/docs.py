"""OpenAPI descriptions of the orders API's parameters and envelopes (drf-spectacular)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from orders.filters import OrderFilterSet
from orders.selectors import SORT_FIELDS

Q = OpenApiParameter.QUERY


def _query(name: str, description: str, type_=OpenApiTypes.STR, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, Q, description=description, **kwargs)


def _filter_parameter(name: str, filter_: django_filters.Filter) -> OpenApiParameter:
    """A filter of the order list as the document describes it: its name, its help text,
    its type (and choices)."""
    extra = filter_.extra
    kwargs = {}
    if isinstance(filter_, django_filters.NumberFilter):
        type_ = OpenApiTypes.DECIMAL
    else:
        type_ = OpenApiTypes.STR
    if isinstance(filter_, django_filters.ChoiceFilter):
        kwargs["enum"] = [value for value, _ in extra["choices"]]
    if "initial" in extra:
        kwargs["default"] = extra["initial"]
    return _query(name, extra["help_text"], type_, **kwargs)


# Generated from the filter set, so the document names exactly the filters the list takes.
FILTER_DOC_PARAMETERS = [
    _filter_parameter(name, filter_) for name, filter_ in OrderFilterSet.base_filters.items()
]

LIST_PARAMETERS = [
    *FILTER_DOC_PARAMETERS,
    _query("page", "Page number, from 1.", OpenApiTypes.INT, default=1),
    _query("per_page", "Orders per page, 1 to 250.", OpenApiTypes.INT, default=25),
    _query("limit", "Alias of per_page (use with offset).", OpenApiTypes.INT),
    _query("offset", "Rows to skip (instead of page).", OpenApiTypes.INT),
    _query(
        "cursor",
        "Keyset cursor: pass `pagination.next_cursor` of the previous response to continue; "
        "stable under concurrent inserts, for sync jobs over large stores.",
    ),
    _query(
        "sort",
        "Comma list of " + ", ".join(SORT_FIELDS) + "; prefix `-` for descending. "
        "Default -created_at. Ties are broken by id.",
    ),
    _query("order", "Direction for sort fields without a prefix.", enum=["asc", "desc"]),
    _query(
        "include",
        "Related lists to add: items, fulfillments (alias shipments), status_history. "
        "Default: items. An empty value adds nothing.",
    ),
]

ORDER_ID = OpenApiParameter(
    "order_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="ord_…"
)
INCLUDE_DETAIL = _query("include", "Extra related lists, e.g. status_history.")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
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

_ERROR = inline_serializer(
    "ErrorResponse",
    {
        "error": inline_serializer(
            "Error",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.ListField(child=serializers.DictField()),
                "request_id": serializers.CharField(),
            },
        )
    },
)
ERRORS = {
    400: OpenApiResponse(_ERROR, description="VALIDATION_ERROR: a parameter or field is invalid"),
    401: OpenApiResponse(_ERROR, description="MISSING_API_KEY or INVALID_API_KEY"),
    403: OpenApiResponse(_ERROR, description="INSUFFICIENT_SCOPE"),
    404: OpenApiResponse(_ERROR, description="NOT_FOUND (also for another store's ids)"),
}

WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(_ERROR, description="ORDER_PAID, IDEMPOTENCY_KEY_IN_USE"),
    412: OpenApiResponse(_ERROR, description="PRECONDITION_FAILED: If-Match is stale"),
    422: OpenApiResponse(
        _ERROR,
        description=(
            "INVALID_TRANSITION, INSUFFICIENT_STOCK, ORDER_NOT_VOIDABLE, IDEMPOTENCY_KEY_REUSED"
        ),
    ),
}

_PAGINATION = inline_serializer(
    "Pagination",
    {
        "page": serializers.IntegerField(allow_null=True),
        "per_page": serializers.IntegerField(),
        "total": serializers.IntegerField(),
        "total_pages": serializers.IntegerField(),
        "has_more": serializers.BooleanField(),
        "next_cursor": serializers.CharField(allow_null=True),
        "limit": serializers.IntegerField(required=False),
        "offset": serializers.IntegerField(required=False),
    },
)


def order_list_response(serializer_class):
    return inline_serializer(
        "OrderListResponse",
        {
            "object": serializers.CharField(default="list"),
            "data": serializer_class(many=True),
            "pagination": _PAGINATION,
            "meta": inline_serializer(
                "OrderListMeta",
                {
                    "tenant_id": serializers.CharField(),
                    "filters": serializers.DictField(),
                    "sort": serializers.CharField(),
                    "include": serializers.ListField(child=serializers.CharField()),
                    "timings_ms": serializers.DictField(),
                },
            ),
        },
    )


def object_response(serializer_class):
    return inline_serializer(f"{serializer_class.__name__}Response", {"data": serializer_class()})


def plain_list_response(serializer_class, name: str):
    return inline_serializer(
        name, {"object": serializers.CharField(default="list"), "data": serializer_class(many=True)}
    )
