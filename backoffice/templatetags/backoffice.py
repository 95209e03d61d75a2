import calendar
from datetime import date

from django import template
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst

from orders.models import OrderStatus, PaymentStatus

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def period_drilldown(cl) -> dict:
    """The admin's date drill-down (years, then months, then days) without its DISTINCT
    queries, which read every row of a big store (380 ms at a million orders).

    One MIN/MAX of the shown orders (two index probes; for a search, of the list without
    it) bounds the periods; every year, month or day between the first and the last
    order is offered, even one that happens to have no orders.
    """
    field_name = cl.date_hierarchy
    year_field, month_field, day_field = (f"{field_name}__{part}" for part in
                                          ("year", "month", "day"))  # fmt: skip
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))
    verbose_name = cl.model._meta.get_field(field_name).verbose_name

    def link(filters: dict) -> str:
        return cl.get_query_string(filters, [f"{field_name}__"])

    def result(back, choices) -> dict:
        return {"show": True, "back": back, "choices": choices, "field_name": verbose_name}

    if year and month and day:
        chosen = date(int(year), int(month), int(day))
        return result(
            {"link": link({year_field: year, month_field: month}),
             "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT"))},
            [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        )  # fmt: skip

    # A search matches few orders, scattered: the bounds of its matches would be a scan of
    # them (600 ms at ten million orders), so a search's periods are the whole list's.
    bounded = cl.root_queryset if cl.query else cl.queryset
    bounds = bounded.order_by().aggregate(first=Min(field_name), last=Max(field_name))
    if bounds["first"] is None:
        return {"show": False}
    first, last = (timezone.localtime(bounds[end]).date() for end in ("first", "last"))
    if not year and first.year == last.year:
        year = str(first.year)
        if first.month == last.month:
            month = str(first.month)

    if year and month:
        year_number, month_number = int(year), int(month)
        days = range(1, calendar.monthrange(year_number, month_number)[1] + 1)
        shown = [
            date(year_number, month_number, n)
            for n in days
            if first <= date(year_number, month_number, n) <= last
        ]
        return result(
            {"link": link({year_field: year}), "title": year},
            [{"link": link({year_field: year, month_field: month, day_field: d.day}),
              "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT"))} for d in shown],
        )  # fmt: skip
    if year:
        year_number = int(year)
        shown = [
            date(year_number, n, 1)
            for n in range(1, 13)
            if (first.year, first.month) <= (year_number, n) <= (last.year, last.month)
        ]
        return result(
            {"link": link({}), "title": "All dates"},
            [{"link": link({year_field: year, month_field: d.month}),
              "title": capfirst(formats.date_format(d, "YEAR_MONTH_FORMAT"))} for d in shown],
        )  # fmt: skip
    return result(
        None,
        [{"link": link({year_field: str(y)}), "title": str(y)}
         for y in range(first.year, last.year + 1)],
    )  # fmt: skip


@register.filter
def order_status_label(value: str | None) -> str:
    """`partially_refunded` → `Partially refunded`, for order and payment statuses alike."""
    if not value:
        return ""
    for choices in (OrderStatus, PaymentStatus):
        if value in choices.values:
            return choices(value).label
    return value
