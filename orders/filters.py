"""The order list's filters: every query parameter of DESIGN.md's list, validated.

Each parameter parses strictly (a bad value is an error naming it, never
ignored) and filters on an indexed column of the store's orders.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from orders.api.fields import TimestampField
from orders.ids import parse_public_id
from orders.models import Customer, Order, OrderStatus, PaymentStatus, Store
from orders.transitions import STATUS_ALIASES, normalize_status

DATE_FILTER_COLUMNS = ("created_at", "updated_at", "placed_at")
# Open-ended bounds for dates at the ends of the calendar, a day inside so no zone overflows.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# The item patterns the OpenAPI document states too (orders/api/docs.py).
COUNTRY_CODE_PATTERN = r"[A-Za-z]{2}"
ORDER_NUMBER_PATTERN = r"#?(\d{1,18})"
_COUNTRY_CODE = re.compile(f"^{COUNTRY_CODE_PATTERN}$")
_ORDER_NUMBER = re.compile(f"^{ORDER_NUMBER_PATTERN}$")
MAX_SEARCH_LENGTH = 200
_DATE = (
    "A date (YYYY-MM-DD, expanded to the whole day in the store's time zone) "
    "or an ISO 8601 date-time."
)


@dataclass(frozen=True)
class DateBound:
    """A date or date-time from a filter. A bare date means the whole day."""

    value: date | datetime

    @property
    def is_whole_day(self) -> bool:
        return not isinstance(self.value, datetime)

    def lower(self, tz) -> datetime:
        """The first instant the bound admits (in UTC)."""
        try:
            if self.is_whole_day:
                return datetime.combine(self.value, time.min, tzinfo=tz).astimezone(UTC)
            return self._aware(tz).astimezone(UTC)
        except OverflowError:  # 0001-01-01 east of UTC: clients use it as "since forever"
            return EARLIEST

    def upper(self, tz) -> tuple[str, datetime]:
        """(lookup, instant in UTC): a whole day runs until the next day begins."""
        try:
            if self.is_whole_day:
                next_day = datetime.combine(self.value + timedelta(days=1), time.min, tzinfo=tz)
                return "lt", next_day.astimezone(UTC)
            return "lte", self._aware(tz).astimezone(UTC)
        except OverflowError:  # 9999-12-31: "until forever"
            return "lte", LATEST

    def is_after(self, upper: "DateBound", tz) -> bool:
        """Whether a range from this bound to `upper` can hold no instant at all."""
        lookup, end = upper.upper(tz)
        start = self.lower(tz)
        return start >= end if lookup == "lt" else start > end

    def _aware(self, tz) -> datetime:
        return self.value if timezone.is_aware(self.value) else self.value.replace(tzinfo=tz)


class DateBoundField(forms.CharField):
    default_error_messages = {
        "invalid": (
            "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time such as 2026-03-10T09:00:00Z."
        )
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = parse_date(text)
            else:
                # '+' in a query string arrives as a space: '…T09:00:00 02:00' means +02:00.
                text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", text)
                parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return DateBound(parsed)


class DateBoundFilter(django_filters.Filter):
    """`>=` (lower) or `<=` (upper) on a date column; bare dates expand in the store's zone."""

    field_class = DateBoundField

    def __init__(self, *args, bound: str, column: str | None = None, **kwargs):
        self.bound = bound
        self.column = column  # None: the column named by ?filter_on=
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: DateBound | None) -> QuerySet:
        if value is None:
            return qs
        column = self.column or self.parent.form.cleaned_data.get("filter_on") or "created_at"
        tz = self.parent.store.tzinfo
        if self.bound == "lower":
            return qs.filter(**{f"{column}__gte": value.lower(tz)})
        lookup, instant = value.upper(tz)
        return qs.filter(**{f"{column}__{lookup}": instant})


class ListField(forms.CharField):
    """A comma-separated list whose items each pass `parse_item` (None means invalid)."""

    def __init__(self, *args, parse_item, describe: str, **kwargs):
        self.parse_item = parse_item
        self.describe = describe
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items:
            raise forms.ValidationError(f"Give at least one value: {self.describe}.")
        parsed, bad = [], []
        for item in items:
            result = self.parse_item(item)
            (bad.append(item) if result is None else parsed.append(result))
        if bad:
            raise forms.ValidationError(
                f"Unknown value{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))}: "
                f"use {self.describe}."
            )
        return list(dict.fromkeys(parsed))


class ListFilter(django_filters.Filter):
    field_class = ListField

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value or "all" in value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def _parse_order_number(item: str) -> int | None:
    match = _ORDER_NUMBER.match(item)
    return int(match.group(1)) if match else None


def _parse_customer_id(item: str):
    try:
        return parse_public_id(Customer.PUBLIC_ID_PREFIX, item)
    except ValueError:
        return None


def _parse_payment_status_or_all(item: str) -> str | None:
    item = item.lower()
    return item if item in PaymentStatus.values or item == "all" else None


class CountryCodeField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if not _COUNTRY_CODE.match(value):
            raise forms.ValidationError("Use a two-letter ISO 3166-1 code such as US or CO.")
        return value.upper()


class CountryCodeFilter(django_filters.CharFilter):
    field_class = CountryCodeField


class OrderFilterForm(forms.Form):
    """Cross-parameter checks: a range whose start is after its end matches nothing.

    `tz` (the store's zone, set by OrderFilterSet) places bare dates and naive times.
    """

    tz = UTC

    RANGES = [
        ("date_from", "date_to"),
        ("created_after", "created_before"),
        ("placed_from", "placed_to"),
        ("updated_at[gte]", "updated_at[lte]"),
        ("total[gte]", "total[lte]"),
        ("min_total", "max_total"),
    ]

    def clean(self):
        cleaned = super().clean()
        for low_name, high_name in self.RANGES:
            low, high = cleaned.get(low_name), cleaned.get(high_name)
            if low is None or high is None:
                continue
            empty = low.is_after(high, self.tz) if isinstance(low, DateBound) else low > high
            if empty:
                self.add_error(high_name, f"{high_name} is before {low_name}; swap them.")
        return cleaned


class OrderFilterSet(django_filters.FilterSet):
    status = ListFilter(
        field_name="status",
        help_text=(
            f"Comma list of statuses: {', '.join(OrderStatus.values)} "
            f"(aliases {', '.join(STATUS_ALIASES)})."
        ),
        parse_item=normalize_status,
        describe=(
            f"a comma list of {', '.join(OrderStatus.values)} "
            f"(aliases: {', '.join(STATUS_ALIASES)})"
        ),
    )
    payment_status = ListFilter(
        field_name="payment_status",
        help_text=f"Comma list of {', '.join(PaymentStatus.values)}, or `all`.",
        parse_item=_parse_payment_status_or_all,
        describe=f"a comma list of {', '.join(PaymentStatus.values)}, or all",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        help_text="Matches order number, customer name / email / phone / code and PO number.",
    )
    q = django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, help_text="Alias of `search`."
    )
    customer_id = ListFilter(
        field_name="customer_id",
        help_text="A customer id (cust_…), or a comma list of them.",
        parse_item=_parse_customer_id,
        describe="customer ids such as cust_0193…",
    )
    order_number = ListFilter(
        field_name="order_number",
        help_text="An order number (1042 or #1042), or a comma list.",
        parse_item=_parse_order_number,
        describe="order numbers such as 1042 (comma-separated for several)",
    )
    po_number = django_filters.CharFilter(
        field_name="po_number", max_length=64, help_text="Exact purchase-order number."
    )
    filter_on = django_filters.ChoiceFilter(
        choices=[(c, c) for c in DATE_FILTER_COLUMNS],
        method="filter_nothing",
        initial="created_at",
        help_text="Column for date_from / date_to.",
    )
    date_from = DateBoundFilter(
        bound="lower", help_text=f"Start of a range on `filter_on`. {_DATE}"
    )
    date_to = DateBoundFilter(
        bound="upper", help_text=f"End of a range on `filter_on` (inclusive). {_DATE}"
    )
    created_after = DateBoundFilter(
        bound="lower", column="created_at", help_text=f"created_at on or after. {_DATE}"
    )
    created_before = DateBoundFilter(
        bound="upper", column="created_at", help_text=f"created_at on or before. {_DATE}"
    )
    placed_from = DateBoundFilter(
        bound="lower", column="placed_at", help_text=f"placed_at on or after. {_DATE}"
    )
    placed_to = DateBoundFilter(
        bound="upper", column="placed_at", help_text=f"placed_at on or before. {_DATE}"
    )
    updated_since = DateBoundFilter(
        bound="lower",
        column="updated_at",
        help_text=f"updated_at on or after (delta syncs). {_DATE}",
    )
    min_total = django_filters.NumberFilter(
        field_name="total", lookup_expr="gte", min_value=0, help_text="Alias of total[gte]."
    )
    max_total = django_filters.NumberFilter(
        field_name="total", lookup_expr="lte", min_value=0, help_text="Alias of total[lte]."
    )
    city = django_filters.CharFilter(
        field_name="shipping_city",
        lookup_expr="iexact",
        help_text="Shipping city, case-insensitive.",
    )
    province = django_filters.CharFilter(
        field_name="shipping_province",
        lookup_expr="iexact",
        help_text="Shipping province / state, case-insensitive.",
    )
    country = django_filters.CharFilter(
        field_name="shipping_country",
        lookup_expr="iexact",
        help_text="Shipping country name, case-insensitive.",
    )
    country_code = CountryCodeFilter(
        field_name="country_code", help_text="Shipping country, ISO 3166-1 alpha-2 (US, CO)."
    )

    class Meta:
        model = Order
        fields: list[str] = []
        form = OrderFilterForm

    def __init__(self, data=None, queryset=None, *, store: Store, request=None):
        self.store = store
        super().__init__(data, queryset, request=request)

    @property
    def form(self):
        form = super().form
        form.tz = self.store.tzinfo
        return form

    def get_form_class(self):
        """django-filter builds a new form class from the filters on every request (every
        list and count); they are the same every time, so the class is built once. Each
        form still gets its own copies of the fields (Django's Form does that)."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def understood(self) -> dict[str, Any]:
        """The filters given, as Ordo read them (seed 004's meta.filters): aliases resolved,
        lists split, ids and dates normalised.

        Each date parameter is echoed as given (`"date_from": "2026-12-01"`), and the
        column it bounds gets the UTC instants it was resolved to in the store's time zone,
        every bound on that column combined: `"created_at": {"gte":
        "2026-12-01T08:00:00.000Z", "lt": "2026-12-02T08:00:00.000Z"}` (a bare day ends
        where the next begins, `lt`; a date-time is inclusive, `lte`).
        """
        understood: dict[str, Any] = {}
        ranges: dict[str, dict[str, datetime]] = {}
        for name, value in self.form.cleaned_data.items():
            if name not in self.data or value in (None, "", []):
                continue
            if isinstance(value, DateBound):
                self._resolve(name, value, ranges)
                value = value.value.isoformat()
            elif name == "customer_id":
                value = [f"{Customer.PUBLIC_ID_PREFIX}{pk}" for pk in value]
            elif isinstance(value, Decimal):
                value = str(value)
            understood[name] = value
        timestamp = TimestampField()
        for column, bounds in ranges.items():
            understood[column] = {
                lookup: timestamp.to_representation(instant) for lookup, instant in bounds.items()
            }
        return understood

    def _resolve(self, name: str, value: DateBound, ranges: dict[str, dict[str, datetime]]) -> None:
        """Add the bound `name` puts on its column to `ranges`, keeping the tightest one of
        each side when several parameters bound the same column (all of them apply)."""
        date_filter = self.filters[name]
        column = date_filter.column or self.form.cleaned_data.get("filter_on") or "created_at"
        bounds = ranges.setdefault(column, {})
        tz = self.store.tzinfo
        if date_filter.bound == "lower":
            bounds["gte"] = max(bounds.get("gte", EARLIEST), value.lower(tz))
            return
        lookup, instant = value.upper(tz)
        current = next(((k, v) for k, v in bounds.items() if k in {"lt", "lte"}), None)
        # At the same instant `lt` excludes it and `lte` does not: `lt` is the tighter.
        if current is None or (instant, lookup == "lte") < (current[1], current[0] == "lte"):
            bounds.pop("lt", None)
            bounds.pop("lte", None)
            bounds[lookup] = instant

    def filter_nothing(self, qs: QuerySet, name: str, value) -> QuerySet:
        return qs  # filter_on only chooses the column for date_from / date_to

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        matches = search_condition(value)
        return qs if matches is None else qs.filter(matches)


def search_condition(term: str) -> Q | None:
    """Orders whose number, customer name / email / phone / code or PO number match `term`
    (case-insensitive substrings; the trigram indexes of migration 0002 serve them).
    None for a blank term. The API's `search` and the admin's search box both use it."""
    term = term.strip()
    if not term:
        return None
    matches = (
        Q(customer_name__icontains=term)
        | Q(customer_email__icontains=term)
        | Q(customer_phone__icontains=term)
        | Q(customer_code__icontains=term)
        | Q(po_number__icontains=term)
    )
    order_number = _parse_order_number(term)
    if order_number is not None:
        matches |= Q(order_number=order_number)
    return matches


# Names with brackets cannot be class attributes; they join the declared filters here.
OrderFilterSet.base_filters.update(
    {
        "updated_at[gte]": DateBoundFilter(
            bound="lower", column="updated_at", help_text=f"updated_at on or after. {_DATE}"
        ),
        "updated_at[lte]": DateBoundFilter(
            bound="upper", column="updated_at", help_text=f"updated_at on or before. {_DATE}"
        ),
        "total[gte]": django_filters.NumberFilter(
            field_name="total", lookup_expr="gte", min_value=Decimal(0), help_text="Minimum total."
        ),
        "total[lte]": django_filters.NumberFilter(
            field_name="total", lookup_expr="lte", min_value=Decimal(0), help_text="Maximum total."
        ),
    }
)
# Filter parameters the list and count endpoints accept.
FILTER_PARAMETERS = frozenset(OrderFilterSet.base_filters)
