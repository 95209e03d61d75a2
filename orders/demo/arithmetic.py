"""The generator's money and weighted-draw arithmetic, in integers: cents and basis points.

Each function is the integer twin of a function on Decimals in orders.pricing, and gives
exactly its result (tests/orders/test_demo_arithmetic.py holds them side by side).
"""

from collections.abc import Iterable


def allocate_cents(total: int, weights: list[int]) -> list[int]:
    """orders.pricing.allocate in integer cents: `total` split over `weights` in proportion,
    rounded down, the cents left going to the largest remainders (earlier parts win ties)."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights)
    parts = [total * weight // weight_sum for weight in weights]
    leftover = total - sum(parts)
    if leftover:
        remainders = [total * weight % weight_sum for weight in weights]
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
            parts[index] += 1
    return parts


def tax_basis_points(rates: dict[tuple[str, str], int], country_code: str, province: str) -> int:
    """orders.pricing.tax_rate_for over rates in basis points (0.0725 → 725) keyed by
    (country code, province or ""): the province's rate, else the country-wide one, else
    none."""
    return rates.get((country_code, province), rates.get((country_code, ""), 0))


def tax_cents(taxable: int, rate: int) -> int:
    """to_cents(taxable × rate), ROUND_HALF_UP, for `taxable` cents (not negative) at `rate`
    basis points."""
    return (taxable * rate + 5_000) // 10_000


def cumulative(shares: Iterable[float]) -> list[float]:
    """Running totals of `shares`, scaled so the last is 1: the bounds `pick` draws from."""
    bounds, total = [], 0.0
    for share in shares:
        total += share
        bounds.append(total)
    return [bound / total for bound in bounds]


def pick(bounds: list[float], draw: float) -> int:
    """The index whose cumulative share first exceeds `draw` (0 <= draw < 1)."""
    for index, bound in enumerate(bounds):
        if draw < bound:
            return index
    return len(bounds) - 1
