"""Order arithmetic: exact decimals, rounded half up to the cent, and the store's tax rates."""

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from orders.models import Store, TaxRate

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` (whole cents) over `weights` in proportion, so the parts add up exactly.

    Largest remainder: each part is rounded down to the cent, then the cents left
    go to the parts that lost most to rounding (earlier lines win ties). Shares are
    exact fractions: a decimal division would round 20.80 × 72/135 at its 28th digit
    and so decide a tie by rounding noise instead of by line order.
    """
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum == 0:
        return [total if i == 0 else Decimal("0.00") for i in range(len(weights))]
    cents = [Fraction(total) * Fraction(w) / Fraction(weight_sum) / Fraction(CENT) for w in weights]
    whole = [math.floor(share) for share in cents]
    leftover = int(total / CENT) - sum(whole)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(cents[i] - whole[i]), i))
    for i in by_remainder[:leftover]:
        whole[i] += 1
    return [Decimal(part) * CENT for part in whole]


def tax_rate_for(*, store: Store, country_code: str, province: str) -> Decimal:
    """The store's rate for the province, else for the whole country, else zero."""
    rates = {
        rate.province.upper(): rate.rate
        for rate in TaxRate.objects.filter(store=store, country_code=country_code.upper())
    }
    if province and province.upper() in rates:
        return rates[province.upper()]
    return rates.get("", Decimal(0))
