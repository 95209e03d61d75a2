"""Optimistic concurrency: a change made against an order as someone last saw it.

An order's ETag changes with every write (orders.models.Order.etag). A client (the
API's If-Match, the admin page's hidden field) hands back the one it saw; a change
under the order's row lock first checks it is still current.
"""

from orders.exceptions import PreconditionFailed
from orders.models import Order


def check_etag(order: Order, expected_etag: str | None) -> None:
    """Raise PreconditionFailed when the order (read under its row lock) has changed since
    `expected_etag` was read. It takes one ETag, a comma list of them, or `*`; None checks
    nothing."""
    if expected_etag is None:
        return
    offered = {tag.strip().removeprefix("W/") for tag in expected_etag.split(",")}
    if not offered & {order.etag, "*"}:
        raise PreconditionFailed(
            "Someone changed this order while you had it open, so nothing was done.",
            context={"current_etag": order.etag},
        )
