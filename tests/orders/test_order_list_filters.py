"""GET /v1/orders filters (DESIGN.md "List parameters"): each one narrows the store's orders
exactly as documented, and a malformed value is a 400 that names the parameter."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_customer, make_order
from tests.helpers import assert_error, assert_rejected, fields_named

pytestmark = pytest.mark.django_db

LIST = "/v1/orders"
FAR_PAST = datetime(2020, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def listed(client, params: dict) -> list[int]:
    """Order numbers the list returns for `params`, in order-number order."""
    response = client.get(LIST, {"sort": "order_number", "per_page": 250, **params})
    assert response.status_code == 200, response.json()
    return [order["order_number"] for order in response.json()["data"]]


def use_timezone(store, name: str) -> None:
    store.timezone = name
    store.save(update_fields=["timezone"])


def make_order_at(store, column: str, instant: datetime):
    """An order whose `column` is `instant` and whose other timestamps are years earlier."""
    timestamps = {"created_at": FAR_PAST, "updated_at": FAR_PAST, "placed_at": FAR_PAST}
    return make_order(store=store, **{**timestamps, column: instant})


# --- status and payment_status ---------------------------------------------------------


@pytest.fixture
def one_order_per_status(store):
    statuses = ["pending", "confirmed", "processing", "shipped", "cancelled"]
    return {status: make_order(store=store, status=status).order_number for status in statuses}


def test_status_lists_only_orders_in_that_status(client, one_order_per_status):
    assert listed(client, {"status": "shipped"}) == [one_order_per_status["shipped"]]


def test_status_takes_a_comma_list(client, one_order_per_status):
    numbers = listed(client, {"status": "pending, shipped"})

    assert numbers == [one_order_per_status["pending"], one_order_per_status["shipped"]]


@pytest.mark.parametrize(
    ("alias", "canonical"), [("in_progress", "processing"), ("canceled", "cancelled")]
)
def test_status_accepts_the_seed_aliases(client, one_order_per_status, alias, canonical):
    assert listed(client, {"status": alias}) == [one_order_per_status[canonical]]


@pytest.mark.parametrize("value", ["bogus", "pending,bogus", "all", ","])
def test_unknown_status_is_rejected(client, one_order_per_status, value):
    assert_rejected(client.get(LIST, {"status": value}), "status")


@pytest.fixture
def one_order_per_payment_status(store):
    statuses = ["pending", "paid", "refunded", "failed"]
    return {s: make_order(store=store, payment_status=s).order_number for s in statuses}


def test_payment_status_lists_only_orders_in_that_payment_status(
    client, one_order_per_payment_status
):
    assert listed(client, {"payment_status": "paid"}) == [one_order_per_payment_status["paid"]]


def test_payment_status_takes_a_comma_list(client, one_order_per_payment_status):
    numbers = listed(client, {"payment_status": "paid,refunded"})

    assert numbers == [
        one_order_per_payment_status["paid"],
        one_order_per_payment_status["refunded"],
    ]


def test_payment_status_all_lists_every_order(client, one_order_per_payment_status):
    assert listed(client, {"payment_status": "all"}) == sorted(
        one_order_per_payment_status.values()
    )


@pytest.mark.parametrize("value", ["captured", "paid,bogus", "in_progress"])
def test_unknown_payment_status_is_rejected(client, one_order_per_payment_status, value):
    assert_rejected(client.get(LIST, {"payment_status": value}), "payment_status")


# --- search / q ------------------------------------------------------------------------


@pytest.fixture
def jane_order(store, other_store):
    jane = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    janes = {"customer_phone": "+15035550101", "customer_code": "ACME", "po_number": "PO-7788"}
    order = make_order(store=store, customer=jane, order_number=1042, **janes)
    bob = {"customer_name": "Bob Stone", "customer_email": "bob@shop.test"}
    bobs = {"customer_phone": "+15035550199", "customer_code": "ZED", "po_number": "PO-1234"}
    make_order(store=store, order_number=2001, **bob, **bobs)
    # Another store's look-alike never shows up.
    look_alike = {"customer_name": jane.name, "customer_email": jane.email}
    make_order(store=other_store, order_number=1042, **look_alike, **janes)
    return order


@pytest.mark.parametrize("param", ["search", "q"])
@pytest.mark.parametrize(
    "term",
    [
        "1042",  # order number
        "#1042",
        "jane cooper",  # customer name, any case
        "COOPER",
        "JANE@Example.com",  # customer email
        "5550101",  # customer phone
        "acme",  # customer code
        "po-7788",  # PO number
    ],
)
def test_search_finds_an_order_by_any_of_its_identifiers(client, jane_order, param, term):
    assert listed(client, {param: term}) == [1042]


@pytest.mark.parametrize("param", ["search", "q"])
def test_search_without_a_match_lists_nothing(client, jane_order, param):
    assert listed(client, {param: "nobody-by-this-name"}) == []


# --- customer_id, order_number, po_number ----------------------------------------------


def test_customer_id_lists_only_that_customers_orders(client, store):
    jane = make_customer(store=store, name="Jane Cooper")
    first = make_order(store=store, customer=jane)
    make_order(store=store, customer=make_customer(store=store, name="Bob Stone"))
    make_order(store=store)
    second = make_order(store=store, customer=jane)

    numbers = listed(client, {"customer_id": jane.public_id})

    assert numbers == [first.order_number, second.order_number]


def test_customer_id_of_another_stores_customer_lists_nothing(client, store, other_store):
    foreign = make_customer(store=other_store, name="Jane Cooper")
    make_order(store=other_store, customer=foreign)
    make_order(store=store)

    assert listed(client, {"customer_id": foreign.public_id}) == []


@pytest.mark.parametrize(
    "value", ["123", "cust_nope", "cust_", "ord_0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"]
)
def test_malformed_customer_id_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"customer_id": value}), "customer_id")


@pytest.fixture
def numbered_orders(store):
    for number in (1041, 1042, 1043):
        make_order(store=store, order_number=number, po_number=f"PO-{number}")


@pytest.mark.parametrize(
    ("value", "expected"), [("1042", [1042]), ("#1042", [1042]), ("1042,1043", [1042, 1043])]
)
def test_order_number_finds_the_numbered_orders(client, numbered_orders, value, expected):
    assert listed(client, {"order_number": value}) == expected


@pytest.mark.parametrize("value", ["abc", "1042,abc", "SO-1042", "-1042", "10.42"])
def test_malformed_order_number_is_rejected(client, numbered_orders, value):
    assert_rejected(client.get(LIST, {"order_number": value}), "order_number")


def test_po_number_finds_the_order_with_that_po(client, numbered_orders):
    assert listed(client, {"po_number": "PO-1042"}) == [1042]
    assert listed(client, {"po_number": "PO-9999"}) == []


# --- dates -----------------------------------------------------------------------------

# (parameter, the column it bounds, other parameters it needs)
LOWER_BOUNDS = [
    ("date_from", "created_at", {}),
    ("date_from", "created_at", {"filter_on": "created_at"}),
    ("date_from", "updated_at", {"filter_on": "updated_at"}),
    ("date_from", "placed_at", {"filter_on": "placed_at"}),
    ("created_after", "created_at", {}),
    ("placed_from", "placed_at", {}),
    ("updated_since", "updated_at", {}),
    ("updated_at[gte]", "updated_at", {}),
]
UPPER_BOUNDS = [
    ("date_to", "created_at", {}),
    ("date_to", "updated_at", {"filter_on": "updated_at"}),
    ("date_to", "placed_at", {"filter_on": "placed_at"}),
    ("created_before", "created_at", {}),
    ("placed_to", "placed_at", {}),
    ("updated_at[lte]", "updated_at", {}),
]
DATE_PARAMETERS = sorted({name for name, _, _ in LOWER_BOUNDS + UPPER_BOUNDS})
RANGES = [
    ("date_from", "date_to"),
    ("created_after", "created_before"),
    ("placed_from", "placed_to"),
    ("updated_at[gte]", "updated_at[lte]"),
]


@pytest.fixture(params=["UTC", "America/Bogota", "Asia/Kolkata"])
def zone(request, store) -> ZoneInfo:
    """The store's time zone, set to each of three in turn."""
    use_timezone(store, request.param)
    return ZoneInfo(request.param)


@pytest.mark.parametrize(("param", "column", "extra"), UPPER_BOUNDS)
def test_a_bare_end_date_covers_that_whole_day_in_the_stores_zone(
    client, store, zone, param, column, extra
):
    last_instant = make_order_at(
        store, column, datetime(2026, 3, 10, 23, 59, 59, 999999, tzinfo=zone)
    )
    make_order_at(store, column, datetime(2026, 3, 11, 0, 0, tzinfo=zone))

    assert listed(client, {param: "2026-03-10", **extra}) == [last_instant.order_number]


@pytest.mark.parametrize(("param", "column", "extra"), LOWER_BOUNDS)
def test_a_bare_start_date_begins_at_that_days_midnight_in_the_stores_zone(
    client, store, zone, param, column, extra
):
    make_order_at(store, column, datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=zone))
    midnight = make_order_at(store, column, datetime(2026, 3, 10, 0, 0, tzinfo=zone))

    assert listed(client, {param: "2026-03-10", **extra}) == [midnight.order_number]


def test_date_range_defaults_to_created_at(client, store):
    created_in_range = make_order(
        store=store,
        created_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
        updated_at=datetime(2026, 4, 1, tzinfo=UTC),
        placed_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    make_order(
        store=store,
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
        updated_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
        placed_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
    )

    numbers = listed(client, {"date_from": "2026-03-10", "date_to": "2026-03-10"})

    assert numbers == [created_in_range.order_number]


@pytest.mark.parametrize("value", ["shipped_at", "created", "CREATED_AT", "id"])
def test_unknown_filter_on_column_is_rejected(client, value):
    response = client.get(LIST, {"filter_on": value, "date_from": "2026-03-10"})

    assert_rejected(response, "filter_on")


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-10T09:00:00Z",
        "2026-03-10T09:00:00.000Z",
        "2026-03-10T09:00:00+00:00",
        "2026-03-10T11:00:00+02:00",
        "2026-03-10T04:00:00-05:00",
    ],
)
def test_iso_datetimes_with_z_or_an_offset_are_exact_instants(client, store, value):
    use_timezone(store, "Asia/Kolkata")  # an explicit offset wins over the store's zone
    instant = datetime(2026, 3, 10, 9, tzinfo=UTC)
    before = make_order(store=store, created_at=instant - MICROSECOND)
    at = make_order(store=store, created_at=instant)
    after = make_order(store=store, created_at=instant + MICROSECOND)

    assert listed(client, {"created_after": value}) == [at.order_number, after.order_number]
    assert listed(client, {"created_before": value}) == [before.order_number, at.order_number]


def test_an_unencoded_plus_in_an_offset_still_means_plus(client, store):
    instant = datetime(2026, 3, 10, 9, tzinfo=UTC)
    make_order(store=store, created_at=instant - MICROSECOND)
    at = make_order(store=store, created_at=instant)

    # A raw '+' in a query string arrives as a space.
    response = client.get(f"{LIST}?created_after=2026-03-10T11:00:00+02:00")

    assert response.status_code == 200, response.json()
    assert [o["order_number"] for o in response.json()["data"]] == [at.order_number]


def test_a_datetime_without_offset_is_read_in_the_stores_zone(client, store):
    use_timezone(store, "America/Bogota")  # UTC-5 all year
    make_order(store=store, updated_at=datetime(2026, 3, 10, 4, 59, 59, 999999, tzinfo=UTC))
    local_midnight = make_order(store=store, updated_at=datetime(2026, 3, 10, 5, tzinfo=UTC))

    # Seed 004's form: "updated_since=2025-06-01 00:00:00".
    numbers = listed(client, {"updated_since": "2026-03-10 00:00:00"})

    assert numbers == [local_midnight.order_number]


def test_a_one_day_range_lists_that_days_orders(client, store):
    make_order(store=store, created_at=datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC))
    first = make_order(store=store, created_at=datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    last = make_order(store=store, created_at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
    make_order(store=store, created_at=datetime(2026, 3, 11, 0, 0, tzinfo=UTC))

    numbers = listed(client, {"date_from": "2026-03-10", "date_to": "2026-03-10"})

    assert numbers == [first.order_number, last.order_number]


@pytest.mark.parametrize("param", DATE_PARAMETERS)
@pytest.mark.parametrize("value", ["2026-02-30", "yesterday", "10/03/2026"])
def test_malformed_date_is_rejected_naming_the_parameter(client, param, value):
    assert_rejected(client.get(LIST, {param: value}), param)


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-03-10T25:00:00Z",
        "2026-03-10T09:00:00+25:00",
        "2026-03-10T09:00:00Q",
        "1741597200",
    ],
)
def test_malformed_date_from_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"date_from": value}), "date_from")


def _assert_range_rejected(response, low: str, high: str) -> None:
    """A 400 naming one end of the range or both, and nothing else."""
    fields = fields_named(assert_error(response, 400, "VALIDATION_ERROR"))
    assert fields
    assert fields <= {low, high}


@pytest.mark.parametrize(("low", "high"), RANGES)
def test_a_range_starting_after_its_end_is_rejected(client, low, high):
    response = client.get(LIST, {low: "2026-03-10T10:00:00Z", high: "2026-03-10T09:00:00Z"})

    _assert_range_rejected(response, low, high)


@pytest.mark.parametrize(("low", "high"), RANGES)
def test_a_range_starting_the_day_after_its_end_day_is_rejected(client, low, high):
    response = client.get(LIST, {low: "2026-03-11", high: "2026-03-10"})

    _assert_range_rejected(response, low, high)


def test_a_range_is_compared_in_the_stores_zone(client, store):
    use_timezone(store, "America/Bogota")
    # 10:00 in Bogota is 15:00 UTC: after the end of the range.
    response = client.get(
        LIST, {"date_from": "2026-03-10T10:00:00", "date_to": "2026-03-10T12:00:00Z"}
    )

    _assert_range_rejected(response, "date_from", "date_to")


@pytest.mark.parametrize(
    ("zone", "param", "value"),
    [
        ("UTC", "date_to", "9999-12-31"),
        ("America/Bogota", "created_before", "9999-12-31"),
        ("UTC", "date_from", "0001-01-01"),
        ("Asia/Tokyo", "created_after", "0001-01-01"),
    ],
)
def test_the_extreme_calendar_dates_are_open_ended_bounds(client, store, zone, param, value):
    use_timezone(store, zone)
    order = make_order(store=store, created_at=datetime(2026, 3, 10, tzinfo=UTC))

    assert listed(client, {param: value}) == [order.order_number]


# --- totals ----------------------------------------------------------------------------


@pytest.fixture
def totals(store):
    return {
        amount: make_order(store=store, total=Decimal(amount)).order_number
        for amount in ("19.99", "20.00", "20.01")
    }


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("total[gte]", ["20.00", "20.01"]),
        ("min_total", ["20.00", "20.01"]),
        ("total[lte]", ["19.99", "20.00"]),
        ("max_total", ["19.99", "20.00"]),
    ],
)
@pytest.mark.parametrize("value", ["20", "20.00"])
def test_total_bounds_are_inclusive(client, totals, param, value, expected):
    assert listed(client, {param: value}) == [totals[amount] for amount in expected]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [("total[gte]", "total[lte]", ["20.00"]), ("min_total", "max_total", ["20.00"])],
)
def test_total_range_keeps_orders_within_both_bounds(client, totals, low, high, expected):
    numbers = listed(client, {low: "19.995", high: "20.005"})

    assert numbers == [totals[amount] for amount in expected]


@pytest.mark.parametrize("param", ["total[gte]", "total[lte]", "min_total", "max_total"])
@pytest.mark.parametrize("value", ["-0.01", "-5", "abc", "NaN", "Infinity", "1,5", "$20"])
def test_negative_or_non_numeric_total_is_rejected(client, param, value):
    assert_rejected(client.get(LIST, {param: value}), param)


@pytest.mark.parametrize(
    ("low", "high"), [("total[gte]", "total[lte]"), ("min_total", "max_total")]
)
def test_a_total_range_with_min_above_max_is_rejected(client, low, high):
    _assert_range_rejected(client.get(LIST, {low: "500", high: "100"}), low, high)


# --- shipping --------------------------------------------------------------------------


@pytest.fixture
def destinations(store):
    def ship_to(city, province, country, code):
        return make_order(
            store=store,
            shipping_city=city,
            shipping_province=province,
            shipping_country=country,
            country_code=code,
        ).order_number

    return {
        "portland": ship_to("Portland", "OR", "United States", "US"),
        "seattle": ship_to("Seattle", "WA", "United States", "US"),
        "toronto": ship_to("Toronto", "ON", "Canada", "CA"),
    }


@pytest.mark.parametrize("city", ["Portland", "portland", "PORTLAND"])
def test_city_matches_ignoring_case(client, destinations, city):
    assert listed(client, {"city": city}) == [destinations["portland"]]


def test_city_without_orders_lists_nothing(client, destinations):
    assert listed(client, {"city": "Salem"}) == []


def test_province_filters_on_the_shipping_province(client, destinations):
    assert listed(client, {"province": "WA"}) == [destinations["seattle"]]


def test_country_filters_on_the_shipping_country_name(client, destinations):
    assert listed(client, {"country": "Canada"}) == [destinations["toronto"]]
    assert listed(client, {"country": "United States"}) == [
        destinations["portland"],
        destinations["seattle"],
    ]


@pytest.mark.parametrize("code", ["US", "us", "Us"])
def test_country_code_accepts_any_case(client, destinations, code):
    assert listed(client, {"country_code": code}) == [
        destinations["portland"],
        destinations["seattle"],
    ]


@pytest.mark.parametrize("code", ["USA", "U", "U1", "United States"])
def test_country_code_that_is_not_two_letters_is_rejected(client, code):
    assert_rejected(client.get(LIST, {"country_code": code}), "country_code")


# --- combinations and isolation --------------------------------------------------------


def test_filters_combine_with_and(client, store):
    match = make_order(store=store, status="pending", shipping_city="Portland")
    make_order(store=store, status="shipped", shipping_city="Portland")
    make_order(store=store, status="pending", shipping_city="Seattle")

    assert listed(client, {"status": "pending", "city": "portland"}) == [match.order_number]


def test_filters_never_reach_another_stores_orders(client, store, other_store):
    mine = make_order(store=store, status="pending", total=Decimal("50.00"))
    make_order(store=other_store, status="pending", total=Decimal("50.00"))

    params = {"status": "pending", "min_total": "50", "city": "portland", "country_code": "US"}

    assert listed(client, params) == [mine.order_number]
    assert listed(client, {}) == [mine.order_number]
