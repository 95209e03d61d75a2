"""The demo generator's integer arithmetic (orders/demo/arithmetic.py, copy_text.py) gives
exactly what the real functions give on Decimals and datetimes: a seeded order is priced,
taxed and identified the way order_create would do it. Inputs are seeded random draws, a
few thousand cases each, shaped like the generator's own and wider."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest

from orders import ids
from orders.demo.arithmetic import allocate_cents, tax_basis_points, tax_cents
from orders.demo.catalog import CATALOG, TAX_RATES
from orders.demo.copy_text import Timestamps, money_text, uuid7_hex
from orders.demo.people import CITIES, STORE_ADDRESS
from orders.models import TaxRate
from orders.pricing import allocate, tax_rate_for, to_cents

CASES = 3_000
PRICES = [round(Decimal(price) * 100) for _, _, options in CATALOG for *_, price, _ in options]
RATES = {
    (country, province): round(Decimal(rate) * 10_000) for country, province, rate in TAX_RATES
}


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _order_lines(rng: random.Random) -> list[int]:
    """Line totals of an order like the generator's: 1-4 catalog prices, 1-4 units each."""
    return [rng.choice(PRICES) * rng.randint(1, 4) for _ in range(rng.randint(1, 4))]


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    """allocate's documented rule in exact fractions: each part rounded down, the cents left
    to the parts that lost most, earlier parts winning ties."""
    exact = [Fraction(total * weight, sum(weights)) for weight in weights]
    parts = [floor(share) for share in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts


def _any_split(rng: random.Random) -> tuple[int, list[int]]:
    weights = [rng.choice([0, rng.randint(1, 99), rng.randint(1, 10**6)]) for _ in range(6)]
    weights = weights[: rng.randint(1, 6)]
    weights[rng.randrange(len(weights))] += 1  # at least one part has weight
    return rng.choice([0, rng.randint(1, 9), rng.randint(1, 10**7)]), weights


def _order_tax_split(rng: random.Random) -> tuple[int, list[int]]:
    weights = _order_lines(rng)
    return tax_cents(sum(weights), rng.choice(list(RATES.values()))), weights


@pytest.mark.parametrize("draw", [_order_tax_split, _any_split], ids=["order tax", "any split"])
def test_allocate_cents_splits_by_largest_remainder_earlier_parts_winning_ties(draw):
    rng = random.Random(1)
    for _ in range(CASES):
        total, weights = draw(rng)

        parts = allocate_cents(total, weights)

        assert parts == _largest_remainder(total, weights), (total, weights)
        assert sum(parts) == total


@pytest.mark.parametrize("draw", [_order_tax_split, _any_split], ids=["order tax", "any split"])
def test_allocate_cents_agrees_with_allocate(draw):
    rng = random.Random(2)
    for _ in range(CASES):
        total, weights = draw(rng)

        expected = allocate(_money(total), [_money(weight) for weight in weights])

        assert [_money(part) for part in allocate_cents(total, weights)] == expected, (
            total, weights,
        )  # fmt: skip


def test_allocate_gives_a_cent_lost_equally_by_several_lines_to_the_earliest():
    """Shares that do not terminate (20.80 × 72/135 = 11.0933…) tie exactly, not by the
    rounding of a 28-digit division."""
    # Each line loses a third of a cent; the one cent left goes to the first line.
    weights = [Decimal("72.00"), Decimal("45.00"), Decimal("18.00")]

    assert allocate(Decimal("20.80"), weights) == [
        Decimal("11.10"), Decimal("6.93"), Decimal("2.77"),
    ]  # fmt: skip
    assert allocate_cents(2080, [7200, 4500, 1800]) == [1110, 693, 277]


@pytest.mark.django_db
def test_the_basis_point_rate_is_the_rate_tax_rate_for_finds(store):
    TaxRate.objects.bulk_create(
        TaxRate(store=store, country_code=country, province=province, rate=Decimal(rate))
        for country, province, rate in TAX_RATES
    )
    # Where demo customers live, the store's pickup counter, and places without a rate.
    places = {(country, province) for _, province, country, *_ in CITIES}
    places |= {(STORE_ADDRESS.country_code, STORE_ADDRESS.province), ("US", ""), ("FR", "")}
    places |= {(country, "ZZ") for country, _ in RATES}

    for country, province in sorted(places):
        expected = tax_rate_for(store=store, country_code=country, province=province)

        assert Decimal(tax_basis_points(RATES, country, province)) / 10_000 == expected, (
            country, province,
        )  # fmt: skip


def test_every_demo_tax_rate_is_whole_basis_points():
    for _, _, rate in TAX_RATES:
        assert Decimal(rate) * 10_000 == round(Decimal(rate) * 10_000)


def test_tax_cents_rounds_half_up_like_to_cents():
    rng = random.Random(3)
    rates = [*RATES.values(), 0, 1, 5_000, 9_999, 10_000]
    for index in range(CASES):
        rate = rates[index % len(rates)] if index < 2 * len(rates) else rng.randint(0, 10_000)
        subtotal = sum(_order_lines(rng)) if index % 2 else rng.randint(0, 10**7)
        discount = rng.choice([0, (subtotal + 5) // 10, min(500, subtotal)])
        taxable = subtotal - discount

        expected = to_cents((_money(subtotal) - _money(discount)) * Decimal(rate) / 10_000)

        assert _money(tax_cents(taxable, rate)) == expected, (subtotal, discount, rate)


def test_tax_cents_rounds_an_exact_half_cent_up():
    # 0.50 at 1 %: half a cent. 0.49 at 1 %: just under.
    assert (tax_cents(50, 100), tax_cents(49, 100), tax_cents(150, 100)) == (1, 0, 2)


def _at(millis: int) -> datetime:
    return datetime.fromtimestamp(millis // 1000, UTC) + timedelta(milliseconds=millis % 1000)


def test_uuid7_hex_lays_out_the_same_uuid_as_uuid7(monkeypatch):
    rng = random.Random(4)
    for _ in range(CASES):
        # 2017 to 2080: past 2036 a float of seconds × 1000 would come out a millisecond
        # short for some instants, so uuid7 counts milliseconds in integers.
        millis = rng.randrange(1_500_000_000_000, 3_500_000_000_000)
        bits = rng.getrandbits(74)
        # uuid7 draws 80 random bits and keeps 74 of them: hand it ours, the rest zero.
        monkeypatch.setattr(ids.os, "urandom", lambda n, bits=bits: bits.to_bytes(n, "big"))

        expected = ids.uuid7(at=_at(millis))

        value = uuid.UUID(hex=uuid7_hex(millis, bits))
        assert value == expected, (millis, bits)
        assert (value.version, value.variant) == (7, uuid.RFC_4122)
        assert value.int >> 80 == millis
        # rand_a: the 12 bits after the version; rand_b: the 62 after the variant.
        assert (value.int >> 64) & 0xFFF == bits >> 62
        assert value.int & (2**62 - 1) == bits & (2**62 - 1)


def test_uuid7_hex_of_now_has_the_timestamp_version_and_variant_of_uuid7():
    millis = int(datetime.now(UTC).timestamp() * 1000)

    ours = uuid.UUID(hex=uuid7_hex(millis, random.Random(5).getrandbits(74)))
    theirs = ids.uuid7(at=_at(millis))

    assert ours.int >> 80 == theirs.int >> 80 == millis
    assert (ours.version, ours.variant) == (theirs.version, theirs.variant) == (7, uuid.RFC_4122)


def test_money_text_and_timestamps_read_back_as_the_values_they_render():
    rng = random.Random(6)
    timestamp = Timestamps()
    for _ in range(CASES):
        cents = rng.choice([0, rng.randint(1, 99), rng.randint(100, 10**9)])
        millis = rng.randrange(1_500_000_000_000, 2_000_000_000_000)

        assert Decimal(money_text(cents)) == _money(cents)
        assert datetime.fromisoformat(timestamp(millis)) == _at(millis)
