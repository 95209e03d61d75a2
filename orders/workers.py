"""The delivery worker's channels: durable outboxes that a worker drains (webhook
deliveries, customer emails), each registered by the app that owns it.

A channel is a function that does one batch of due work and returns how much it did;
`manage.py delivery_worker` calls every channel in turn and sleeps only when none had
anything to do. Each channel takes its rows under a lease (orders.leases), so any
number of workers can run, and a worker killed mid-batch only delays its rows until
their leases run out.
"""

from collections.abc import Callable

Channel = Callable[[], int]
_CHANNELS: dict[str, Channel] = {}


def register_channel(name: str, work: Channel) -> None:
    _CHANNELS[name] = work


def channels() -> dict[str, Channel]:
    return dict(_CHANNELS)
