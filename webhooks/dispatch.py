"""Fan-out: turning the event stream into deliveries, one per subscribed endpoint.

Writing an event costs its change one INSERT; the deliveries are made here, after
commit, by whichever worker holds the dispatch cursor. It reads the stream in
commit order through the same horizon as the feed (orders.selectors.events_settled),
so an event whose transaction commits late is still dispatched, in its place.
"""

from collections import defaultdict

from django.db import transaction

from orders.models.event import event_types_matching
from orders.plans import WEBHOOKS, plans_with_feature
from orders.selectors import events_settled
from webhooks.models import DispatchCursor, WebhookDelivery, WebhookEndpoint

DISPATCH_BATCH = 500


def dispatch_events(*, batch: int = DISPATCH_BATCH) -> int:
    """Create the deliveries of the next `batch` settled events; how many events it read.

    Locks the dispatch cursor row without waiting (another worker dispatching now
    means there is nothing for this one to do). An endpoint receives the events
    created after it was, whatever its status: a disabled endpoint's deliveries wait
    for it to be enabled again.
    """
    with transaction.atomic():
        cursor = DispatchCursor.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if cursor is None:
            if DispatchCursor.objects.exists():
                return 0  # another worker holds it
            # The migration makes the row; a flushed test database has lost it.
            DispatchCursor.objects.get_or_create(pk=1)
            return dispatch_events(batch=batch)
        events = events_settled().filter(position__gte=cursor.position)
        if cursor.event_id is not None:
            events = events.exclude(position=cursor.position, id__lte=cursor.event_id)
        events = list(
            events.order_by("position", "id").only(
                "id", "store_id", "type", "order_id", "position", "created_at"
            )[:batch]
        )
        if not events:
            return 0
        endpoints = defaultdict(list)
        # A store moved to a plan without webhooks gets no more deliveries.
        for endpoint in WebhookEndpoint.objects.filter(
            store_id__in={event.store_id for event in events},
            store__plan__in=plans_with_feature(WEBHOOKS),
        ).only("id", "store_id", "events", "created_at"):
            endpoints[endpoint.store_id].append((endpoint, event_types_matching(endpoint.events)))
        deliveries = []
        sequence = cursor.next_sequence
        for event in events:
            for endpoint, types in endpoints[event.store_id]:
                if event.type in types and event.created_at >= endpoint.created_at:
                    deliveries.append(
                        WebhookDelivery(
                            store_id=event.store_id,
                            endpoint=endpoint,
                            event_id=event.id,
                            event_type=event.type,
                            order_id=event.order_id,
                            sequence=sequence,
                            next_attempt_at=event.created_at,
                            created_at=event.created_at,
                        )
                    )
                    sequence += 1
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        cursor.position, cursor.event_id = events[-1].position, events[-1].id
        cursor.next_sequence = sequence
        cursor.save()
    return len(events)
