"""Order arithmetic: exact decimals, rounded half up to the cent."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` (whole cents) over `weights` in proportion, so the parts add up exactly.

    Largest remainder: each part is rounded down to the cent, then the cents left
    go to the parts that lost most to rounding (earlier lines win ties).
    """
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum == 0:
        return [total if i == 0 else Decimal("0.00") for i in range(len(weights))]
    exact = [total * w / weight_sum for w in weights]
    parts = [e.quantize(CENT, rounding="ROUND_DOWN") for e in exact]
    leftover = int((total - sum(parts, Decimal(0))) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += CENT
    return parts
