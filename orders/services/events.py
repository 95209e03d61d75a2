"""Recording events: one row per committed change, written inside the change's transaction.

The services of every app call `event_record` at the end of a change, so the API, the
admin (bulk moves too) and management commands all write the same events, and a
refused or rolled-back change writes none. How an object is rendered is the API's
business: each app registers a renderer for its models (`register_event_renderer`,
from its AppConfig.ready), so this module imports no serializer.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models

from orders.api.renderers import dumps
from orders.models import Event, EventType, Store
from orders.models.event import TransactionPosition

Renderer = Callable[[Store, models.Model], dict[str, Any]]
_RENDERERS: dict[type[models.Model], Renderer] = {}


def register_event_renderer(model: type[models.Model], renderer: Renderer) -> None:
    """Render `model`'s instances in events the way the API renders them."""
    _RENDERERS[model] = renderer


def event_render(store: Store, subject: models.Model) -> dict[str, Any]:
    """`subject`, one of `store`'s, as the API renders it."""
    try:
        renderer = _RENDERERS[type(subject)]
    except KeyError:
        raise LookupError(
            f"No event renderer is registered for {type(subject).__name__}."
        ) from None
    return renderer(store, subject)


def changed_attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The old values of the top-level fields that differ between two renderings."""
    return {key: value for key, value in before.items() if after.get(key) != value}


def event_record(
    *,
    store: Store,
    type: EventType | str,
    subject: models.Model,
    order_id: Any,
    previous_attributes: Mapping[str, Any] | None = None,
    rendered: dict[str, Any] | None = None,
) -> Event:
    """Write the event of a change: one INSERT, in the caller's transaction.

    `rendered` saves rendering `subject` again when the caller already has it (as
    it does after diffing for `previous_attributes`).
    """
    return Event.objects.create(
        store=store,
        type=type,
        order_id=order_id,
        position=TransactionPosition(),
        data_json=dumps(
            {
                "object": rendered if rendered is not None else event_render(store, subject),
                "previous_attributes": dict(previous_attributes or {}),
            }
        ),
    )
