"""What a store's plan lets it use (DESIGN.md "Plans", seed 001).

FEATURE_PLANS is the one table saying which feature needs which plan; everything
else asks `store_has_feature` or calls `require_feature`, never the plan itself, so
moving a feature between plans is a one-line change here.

- `inventory`: stock tracking and reservation, restocking on cancel, void and
  refund, stock adjustments and tracked variants in the admin.
- `webhooks`: webhook endpoints and their deliveries.
"""

from dataclasses import dataclass

from orders.exceptions import FeatureAccessDenied
from orders.models import Store

INVENTORY = "inventory"
WEBHOOKS = "webhooks"

# Each plan includes everything the plans before it include.
PLAN_ORDER: list[str] = [Store.Plan.FREE, Store.Plan.PREMIUM]


@dataclass(frozen=True)
class Feature:
    label: str  # how the refusal names it, as the subject of "… requires the premium plan"
    plan: str  # the least plan that includes it


FEATURE_PLANS: dict[str, Feature] = {
    INVENTORY: Feature(label="Inventory control", plan=Store.Plan.PREMIUM),
    WEBHOOKS: Feature(label="Webhook delivery", plan=Store.Plan.PREMIUM),
}


def _includes(plan: str, required: str) -> bool:
    # A plan this table does not know (a typo in the database) includes nothing beyond free.
    rank = PLAN_ORDER.index(plan) if plan in PLAN_ORDER else 0
    return rank >= PLAN_ORDER.index(required)


def plans_with_feature(feature: str) -> list[str]:
    """The plans that include `feature`: for queries over many stores at once."""
    return [plan for plan in PLAN_ORDER if _includes(plan, FEATURE_PLANS[feature].plan)]


def store_has_feature(store: Store, feature: str) -> bool:
    """Whether `store`'s plan includes `feature` (a key of FEATURE_PLANS)."""
    return _includes(store.plan, FEATURE_PLANS[feature].plan)


def feature_denied(*, store: Store, feature: str) -> FeatureAccessDenied:
    """The refusal `require_feature` raises, for callers that list refusals (the admin's
    refund preview) rather than raise them."""
    required = FEATURE_PLANS[feature]
    return FeatureAccessDenied(
        f"{required.label} requires the {required.plan} plan. Upgrade your plan to use it.",
        details={"feature": feature},
        context={"feature": feature, "required_plan": required.plan, "plan": store.plan},
    )


def require_feature(*, store: Store, feature: str) -> None:
    """Raise FeatureAccessDenied (403, seed 001's shape) unless `store`'s plan includes
    `feature`."""
    if not store_has_feature(store, feature):
        raise feature_denied(store=store, feature=feature)
