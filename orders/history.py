"""Who changed an order, written onto its history row.

Services tag the order before saving (`set_history_actor`); simple-history's
documented hook for extra history columns copies the tag onto the row.
"""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from orders.models import Order

SYSTEM_ACTOR = "system"


def set_history_actor(order: Order, *, actor: str, reason: str = "") -> None:
    """Label the next history row of `order` with `actor` (`api_key_…`, a username, `system`)."""
    order._history_actor = actor
    order._change_reason = reason


@receiver(pre_create_historical_record, sender=Order.history.model)
def _label_history_row(sender, instance, history_instance, **kwargs) -> None:
    actor = getattr(instance, "_history_actor", None)
    if not actor and history_instance.history_user_id:
        actor = history_instance.history_user.get_username()
    history_instance.changed_by = actor or SYSTEM_ACTOR
