"""Stock: what a variant has on hand, reserved by orders and returned by cancels and voids.

Every change is a conditional UPDATE (`stock >= wanted`, `stock + change >= 0`): it
row-locks the variant and re-checks the stock after any concurrent change commits,
so no unit is sold twice and no delivery typed in is written over. Several variants
are always taken in id order, so two orders can never deadlock.

Stock is the premium plan's `inventory` feature (orders.plans): a free store's orders
reserve nothing and its cancels and voids put nothing back. Each line records whether
its units were taken (LineItem.stock_reserved), so a store that changes plan, or a
variant whose tracking is switched, never gets back units that were never taken.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

from django.db import transaction
from django.db.models import F

from orders.exceptions import InsufficientStock, NotFound, field_problem
from orders.models import LineItem, Order, Store, Variant
from orders.plans import INVENTORY, require_feature, store_has_feature


class OrderedLine(Protocol):
    variant_id: UUID
    quantity: int


@transaction.atomic
def variant_adjust_stock(*, store: Store, variant: Variant, change: int) -> int:
    """Add (or with a negative `change`, remove) units of a variant; returns the new stock.

    A conditional UPDATE, so a count typed in while orders are reserving units is
    added to what is there now, never written over it. Raises FeatureAccessDenied on
    a store whose plan has no inventory control, NotFound for another store's variant
    and InsufficientStock when fewer than `-change` units are left; either way nothing
    changes.
    """
    require_feature(store=store, feature=INVENTORY)
    moved = change == 0 or Variant.objects.filter(
        store=store, pk=variant.pk, stock__gte=-change
    ).update(stock=F("stock") + change)
    stock = (
        Variant.objects.filter(store=store, pk=variant.pk).values_list("stock", flat=True).first()
    )
    if stock is None:
        raise NotFound(f"No variant '{variant.public_id}' in this store.")
    if not moved:
        message = f"Cannot remove {-change} units of {variant.sku}: only {stock} are in stock."
        shortage = {"variant_id": variant.public_id, "sku": variant.sku}
        raise InsufficientStock(
            message,
            details=[field_problem("stock", message)],
            context={"shortages": [{**shortage, "requested": -change, "available": stock}]},
        )
    return stock


def stock_reserve(
    *, store: Store, lines: Sequence[OrderedLine], variants: Mapping[UUID, Variant]
) -> set[UUID]:
    """Take the ordered units off tracked variants, or raise InsufficientStock naming every
    short line (and reserve nothing: the caller's transaction rolls back).

    Returns the ids of the variants whose units were taken: none on a store without
    inventory control, whose orders never run out."""
    if not store_has_feature(store, INVENTORY):
        return set()
    wanted: dict[UUID, int] = defaultdict(int)
    for line in lines:
        if variants[line.variant_id].track_inventory:
            wanted[line.variant_id] += line.quantity
    short: set[UUID] = set()
    for variant_id in sorted(wanted):
        taken = Variant.objects.filter(
            store=store, pk=variant_id, stock__gte=wanted[variant_id]
        ).update(stock=F("stock") - wanted[variant_id])
        if not taken:
            short.add(variant_id)
    if not short:
        return set(wanted)
    available = dict(Variant.objects.filter(pk__in=short).values_list("pk", "stock"))
    shortages = [
        (index, variants[line.variant_id], wanted[line.variant_id], available[line.variant_id])
        for index, line in enumerate(lines)
        if line.variant_id in short
    ]
    raise InsufficientStock(
        "Not enough stock, so nothing was reserved: "
        + "; ".join(
            f"{variant.sku} has {left} left, {requested} wanted"
            for _, variant, requested, left in shortages
        )
        + ". Lower the quantities or remove those lines.",
        details=[
            field_problem(
                f"line_items[{index}].quantity",
                f"{variant.sku} has {left} left, {requested} wanted.",
            )
            for index, variant, requested, left in shortages
        ],
        context={
            "shortages": [
                {
                    "field": f"line_items[{index}].quantity",
                    "variant_id": variant.public_id,
                    "sku": variant.sku,
                    "requested": requested,
                    "available": left,
                }
                for index, variant, requested, left in shortages
            ]
        },
    )


def stock_release(*, store: Store, order: Order) -> None:
    """Put back the units an order still holds (cancel, void): what its lines took when it
    was created, less what was already refunded, and nothing for lines that took nothing.
    Whatever the store's plan is now: units taken on premium go back even after a move to
    free, so moving back finds the count right. Conditional UPDATEs, variant id order."""
    returned: dict[UUID, int] = defaultdict(int)
    for variant_id, quantity, refunded in LineItem.objects.filter(
        store=store, order=order, variant__isnull=False, stock_reserved=True
    ).values_list("variant_id", "quantity", "refunded_quantity"):
        returned[variant_id] += quantity - refunded
    for variant_id in sorted(returned):
        if returned[variant_id]:
            # Not filtered on track_inventory: what was taken goes back even if tracking
            # was switched off since, so switching it on again finds the count right.
            Variant.objects.filter(store=store, pk=variant_id).update(
                stock=F("stock") + returned[variant_id]
            )
