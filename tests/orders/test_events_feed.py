"""GET /v1/events and /v1/events/{id}: the store's events newest first, or oldest first for
consumers, filtered by type, order and time, paged by page or keyset cursor; and the promise
that a consumer paging oldest first never misses an event, even when transactions commit in
another order than they wrote (PostgreSQL, real concurrent connections, at the end)."""

import itertools
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from orders.api.events import event_json, render_event
from orders.api.renderers import dumps
from orders.models import Event, Scope
from orders.models.figures import ORDER_COUNT_SLOTS
from orders.services import figures, order_transition, order_update
from tests.concurrency import requires_postgresql, run_concurrently
from tests.factories import make_api_key, make_order, make_shipping_method, make_variant
from tests.helpers import (
    api_client,
    assert_error,
    assert_rejected,
    assert_scope_refused,
    create_order,
    data_of,
    local,
    parse_timestamp,
    patch_order,
    stored_order,
)

pytestmark = pytest.mark.django_db

FEED = "/v1/events"


@pytest.fixture
def mug(store):
    make_shipping_method(store=store, code="standard", price="5.99")
    return make_variant(store=store, price="24.00", stock=100)


@pytest.fixture
def history(client, store, mug) -> dict:
    """Two orders' events, in this order: first created, confirmed and noted; second created
    and paid. The orders' JSON and the events' ids, oldest first."""
    first = create_order(client, store, [(mug, 1)])
    data_of(patch_order(client, first, {"status": "confirmed"}))
    body = {"content": "Fragile", "is_internal": True}
    data_of(client.post(f"/v1/orders/{first['id']}/notes", body, format="json"), 201)
    second = create_order(client, store, [(mug, 1)])
    data_of(patch_order(client, second, {"payment_status": "paid"}))
    events = Event.objects.order_by("position", "id")
    return {"first": first, "second": second, "ids": [event.public_id for event in events]}


def feed(client, path: str = FEED, status: int = 200, **params) -> dict:
    response = client.get(path, params)
    assert response.status_code == status, response.content
    return response.json()


def ids(body: dict) -> list[str]:
    return [event["id"] for event in body["data"]]


def types(body: dict) -> list[str]:
    return [event["type"] for event in body["data"]]


# --- order ---------------------------------------------------------------------------------


def test_the_feed_lists_the_stores_events_newest_first(client, history):
    body = feed(client)

    assert ids(body) == history["ids"][::-1]
    assert types(body) == [
        "order.paid", "order.created", "note.created", "order.status_changed", "order.created",
    ]  # fmt: skip
    assert body["meta"]["sort"] == "-created_at"
    assert body["pagination"]["total"] == 5


def test_each_listed_event_is_the_event_its_own_route_shows(client, history):
    for listed in feed(client)["data"]:
        assert data_of(client.get(f"{FEED}/{listed['id']}")) == listed


@pytest.mark.parametrize(
    ("params", "oldest_first"),
    [
        ({"sort": "created_at"}, True),
        ({"sort": "created_at", "order": "asc"}, True),
        ({"sort": "created_at", "order": "desc"}, False),
        ({"sort": "-created_at"}, False),
        ({"sort": "-created_at", "order": "desc"}, False),
        # As on the order list: a "-" wins over order, and order alone sorts by created_at.
        ({"sort": "-created_at", "order": "asc"}, False),
        ({"order": "asc"}, True),
        ({"order": "desc"}, False),
    ],
)
def test_sort_created_at_lists_them_oldest_first(client, history, params, oldest_first):
    expected = history["ids"] if oldest_first else history["ids"][::-1]

    assert ids(feed(client, **params)) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "type"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"type": " , "}, "type"),
        ({"status": "paid"}, "status"),
    ],
)
def test_a_sort_or_parameter_the_feed_does_not_know_is_400_naming_it(client, params, field):
    assert_rejected(client.get(FEED, params), field)


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("order.created", ["order.created", "order.created"]),
        ("order.created,note.created", ["order.created", "note.created", "order.created"]),
        (" order.paid , note.created ", ["note.created", "order.paid"]),
        ("order.*", ["order.created", "order.status_changed", "order.created", "order.paid"]),
        ("note.*,order.paid", ["note.created", "order.paid"]),
        (
            "*",
            [
                "order.created",
                "order.status_changed",
                "note.created",
                "order.created",
                "order.paid",
            ],
        ),
        ("refund.created", []),
    ],
)
def test_the_type_filter_takes_a_comma_list_of_types_and_wildcards(
    client, history, type_, expected
):
    body = feed(client, type=type_, sort="created_at")

    assert types(body) == expected
    assert body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize("type_", ["order.shipped", "order.*,nope", "orders.*", "order."])
def test_an_unknown_event_type_is_400_naming_it(client, history, type_):
    error = assert_rejected(client.get(FEED, {"type": type_}), "type")

    unknown = type_.split(",")[-1]
    assert f"'{unknown}'" in error["details"][0]["message"]
    assert "order.*" in error["details"][0]["message"]  # what to use instead


def test_the_order_id_filter_lists_that_orders_events_and_nothing_else(client, history):
    body = feed(client, order_id=history["first"]["id"], sort="created_at")

    assert types(body) == ["order.created", "order.status_changed", "note.created"]
    assert {event["order_id"] for event in body["data"]} == {history["first"]["id"]}
    assert body["meta"]["filters"] == {"order_id": history["first"]["id"]}


@pytest.mark.parametrize(
    "order_id", ["ord_nope", "12345", "cust_01a231bb-c652-7198-9152-29d50cca815f"]
)
def test_a_malformed_order_id_is_400(client, history, order_id):
    assert_rejected(client.get(FEED, {"order_id": order_id}), "order_id")


def test_another_stores_order_id_finds_no_events(client, history, other_store):
    theirs = make_order(store=other_store)

    body = feed(client, order_id=theirs.public_id)

    assert body["data"] == []
    assert body["pagination"]["total"] == 0


# Three events of the Los Angeles store: just before 1 March 2026 began there, just after,
# and at noon (1 March began at 08:00 UTC there).
LA_MOMENTS = [
    local(date(2026, 2, 28), 23, 59), local(date(2026, 3, 1), 0, 1), local(date(2026, 3, 1), 12)
]  # fmt: skip


@pytest.fixture
def la_client(los_angeles):
    """The Los Angeles store's client; its store has an event at each of LA_MOMENTS."""
    order = make_order(store=los_angeles)
    for number, moment in enumerate(LA_MOMENTS):
        before = set(Event.objects.values_list("pk", flat=True))
        details = {"po_number": f"PO-{number}"}
        order = order_update(store=los_angeles, order=order, actor="test", details=details)
        Event.objects.exclude(pk__in=before).update(created_at=moment)
    return api_client(make_api_key(store=los_angeles))


@pytest.mark.parametrize(
    ("created_after", "first"),
    [
        ("2026-03-01", 1),
        ("2026-03-01T07:59:00Z", 0),  # at or after: the first event's own instant
        ("2026-03-01T08:00:00Z", 1),
        ("2026-03-01T00:01:00-08:00", 1),
        ("2026-03-01T00:01:01-08:00", 2),
        ("2026-03-01T11:59:59", 2),  # no offset: the store's clock
        ("2026-03-02", 3),
    ],
)
def test_created_after_takes_a_date_in_the_stores_zone_or_an_instant(
    la_client, created_after, first
):
    body = feed(la_client, created_after=created_after, sort="created_at")

    assert [parse_timestamp(e["created_at"]) for e in body["data"]] == LA_MOMENTS[first:]


def test_created_after_as_understood_is_the_days_first_instant_in_utc(la_client):
    body = feed(la_client, created_after="2026-03-01")

    assert body["meta"]["filters"] == {"created_after": "2026-03-01T08:00:00.000Z"}


@pytest.mark.parametrize("created_after", ["yesterday", "2026-02-30", "2026-03-01T25:00:00Z"])
def test_a_created_after_that_is_no_date_is_400(client, created_after):
    error = assert_rejected(client.get(FEED, {"created_after": created_after}), "created_after")

    assert "YYYY-MM-DD" in error["details"][0]["message"]


# --- paging --------------------------------------------------------------------------------


def follow(client, **params) -> list[list[str]]:
    """Every page's event ids, from the first to the one without next_cursor."""
    body = feed(client, **params)
    pages = [ids(body)]
    while (cursor := body["pagination"]["next_cursor"]) is not None:
        assert len(pages) < 50, "next_cursor never ran out"
        body = feed(client, **params, cursor=cursor)
        assert body["pagination"]["total"] is None  # a cursor page does not count
        pages.append(ids(body))
    return pages


@pytest.mark.parametrize("sort", ["created_at", "-created_at"])
def test_cursor_paging_visits_every_event_exactly_once_in_order(client, history, sort):
    pages = follow(client, sort=sort, per_page=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    expected = history["ids"] if sort == "created_at" else history["ids"][::-1]
    assert [event_id for page in pages for event_id in page] == expected


def test_events_written_while_a_consumer_pages_come_after_its_cursor(client, history, mug, store):
    first = feed(client, sort="created_at", per_page=3)
    later = create_order(client, store, [(mug, 1)])

    rest = feed(client, sort="created_at", per_page=10, cursor=first["pagination"]["next_cursor"])

    new = Event.objects.get(order_id=stored_order(later).pk)
    assert ids(first) + ids(rest) == [*history["ids"], new.public_id]


def test_a_consumer_at_the_end_resumes_after_the_last_event_it_saw(client, history, mug, store):
    last_seen = feed(client, sort="created_at", per_page=250)
    assert last_seen["pagination"]["next_cursor"] is None  # nothing more, for now
    later = create_order(client, store, [(mug, 1)])

    since = feed(client, sort="created_at", starting_after=history["ids"][-1])

    assert ids(since) == [Event.objects.get(order_id=stored_order(later).pk).public_id]
    newest_first = feed(client, starting_after=history["ids"][2])
    assert ids(newest_first) == history["ids"][:2][::-1]


def test_starting_after_an_event_the_store_does_not_have_is_422(client, history, other_store):
    foreign = make_order(store=other_store)
    order_transition(store=other_store, order=foreign, to_status="confirmed", actor="test")
    foreign_event = Event.objects.get(store=other_store).public_id

    error = assert_error(
        client.get(FEED, {"starting_after": foreign_event}), 422, "VALIDATION_ERROR"
    )

    assert error["details"][0]["field"] == "starting_after"
    assert "created_after" in error["details"][0]["message"]


@pytest.mark.parametrize("params", [{"starting_after": "ord_1"}, {"page": "2"}, {"cursor": "x"}])
def test_starting_after_a_non_event_or_with_other_paging_is_400(client, history, params):
    query = {"starting_after": history["ids"][0], **params}

    assert_rejected(client.get(FEED, query), next(iter(params)))


def test_a_cursor_made_for_the_other_order_is_400(client, history):
    cursor = feed(client, sort="created_at", per_page=2)["pagination"]["next_cursor"]

    error = assert_rejected(client.get(FEED, {"sort": "-created_at", "cursor": cursor}), "cursor")

    assert "same sort" in error["details"][0]["message"]


def test_page_and_per_page_cut_the_newest_first_list(client, history):
    newest_first = history["ids"][::-1]

    second = feed(client, page=2, per_page=2)
    last = feed(client, page=3, per_page=2)

    assert ids(second) == newest_first[2:4]
    assert ids(last) == newest_first[4:]
    assert {k: second["pagination"][k] for k in ("page", "total", "total_pages", "has_more")} == {
        "page": 2, "total": 5, "total_pages": 3, "has_more": True,
    }  # fmt: skip
    assert last["pagination"]["has_more"] is False


@pytest.mark.parametrize("per_page", ["0", "251", "ten"])
def test_a_per_page_out_of_range_is_400(client, per_page):
    assert_rejected(client.get(FEED, {"per_page": per_page}), "per_page")


def test_the_number_of_queries_does_not_grow_with_the_page(client, store, mug):
    for _ in range(10):
        order = create_order(client, store, [(mug, 1)])
        data_of(patch_order(client, order, {"payment_status": "paid"}))

    counts = []
    for per_page in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            assert len(feed(client, per_page=per_page)["data"]) == per_page
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]


# --- one event, routes, scope, other stores ------------------------------------------------


def test_one_event_by_id_under_every_route_form(client, store, history):
    event_id = history["ids"][0]
    shown = data_of(client.get(f"{FEED}/{event_id}"))

    assert shown["type"] == "order.created"
    assert shown["store_id"] == store.public_id
    for path in (f"/v1/stores/{store.public_id}/events", "/api/events"):
        assert ids(feed(client, path)) == history["ids"][::-1]
        assert data_of(client.get(f"{path}/{event_id}")) == shown


@pytest.mark.parametrize(
    "event_id",
    [
        "evt_01a231bb-c798-778e-bf07-373d44ca1940",
        "evt_nope",
        "ord_01a231bb-c798-778e-bf07-373d44ca1940",
    ],
)
def test_an_event_that_does_not_exist_is_404(client, history, event_id):
    assert_error(client.get(f"{FEED}/{event_id}"), 404, "NOT_FOUND")


def test_another_stores_events_are_neither_listed_nor_shown(client, history, other_store):
    theirs = api_client(make_api_key(store=other_store))
    their_order = create_order(theirs, other_store, [(make_other_mug(other_store), 1)])
    (their_event,) = Event.objects.filter(store=other_store)

    assert ids(feed(client)) == history["ids"][::-1]
    assert_error(client.get(f"{FEED}/{their_event.public_id}"), 404, "NOT_FOUND")
    path = f"/v1/stores/{other_store.public_id}/events"
    assert_error(client.get(path), 404, "NOT_FOUND")
    assert ids(feed(theirs)) == [their_event.public_id]
    assert feed(theirs)["data"][0]["order_id"] == their_order["id"]


def make_other_mug(store):
    make_shipping_method(store=store, code="standard", price="5.99")
    return make_variant(store=store, price="24.00", stock=5)


@pytest.mark.parametrize("path", [FEED, f"{FEED}/evt_01a231bb-c798-778e-bf07-373d44ca1940"])
def test_a_key_without_read_orders_is_refused(store, history, path):
    writer = api_client(make_api_key(store=store, scopes=[Scope.WRITE_ORDERS]))

    assert_scope_refused(writer.get(path), "read:orders")


# --- transactions committing out of order (PostgreSQL) ------------------------------------
#
# The feed's horizon is PostgreSQL's: an event shows once no transaction that started writing
# before it is still open, on this server (in any of its databases). The waits below are
# bounded polls for that, because another session on the server may hold it back a moment.

SETTLE_SECONDS = 60


class Consumer:
    """An integrator's sync job: it follows GET /v1/events oldest first by cursor. Past the
    last page the feed gives no next_cursor, so it keeps the cursor of the last page it read
    and reads on from there next time, skipping the events it already has."""

    def __init__(self, client):
        self.client = client
        self.cursor: str | None = None
        self.received: list[str] = []

    def poll(self) -> list[str]:
        """The events it receives now, in the order it receives them."""
        new: list[str] = []
        while True:
            params = {"sort": "created_at", "per_page": 1}
            body = feed(self.client, **params, **({"cursor": self.cursor} if self.cursor else {}))
            new += [i for i in ids(body) if i not in self.received and i not in new]
            if body["pagination"]["next_cursor"] is None:
                self.received += new
                return new
            self.cursor = body["pagination"]["next_cursor"]

    def poll_until(self, count: int) -> list[str]:
        """Poll until `count` new events arrived (or fail after SETTLE_SECONDS)."""
        new: list[str] = []
        deadline = time.monotonic() + SETTLE_SECONDS
        while len(new) < count:
            assert time.monotonic() < deadline, (
                f"{len(new)} of {count} events settled in {SETTLE_SECONDS}s: a transaction "
                "open elsewhere on this PostgreSQL server held the feed back"
            )
            new += self.poll()
            if len(new) < count:
                time.sleep(0.05)  # a poll interval, not an assertion
        return new


@pytest.fixture
def separate_count_slots(monkeypatch):
    """Each change's counts in a slot of its own. Two changes in one store meet on a count
    row one time in ORDER_COUNT_SLOTS, and the later then waits for the earlier to commit:
    held open here, it never would, and the race these tests stage would not happen."""
    slots = itertools.count()
    monkeypatch.setattr(figures, "count_slot", lambda: next(slots) % ORDER_COUNT_SLOTS)


@contextmanager
def transaction_held_open(change: Callable[[], object]):
    """Run `change` in a transaction on a connection of its own, and keep that transaction
    open (its event written, not committed) until the block ends; then it commits."""
    written, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                change()
                written.set()
                if not release.wait(SETTLE_SECONDS):
                    raise TimeoutError("the test never let the open transaction commit")
        except BaseException as error:  # surfaced to the test below
            failures.append(error)
            written.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert written.wait(SETTLE_SECONDS)
        assert not failures, failures
        yield
    finally:
        release.set()
        thread.join(SETTLE_SECONDS)
    assert not failures, failures


def confirm(store, order) -> Callable[[], object]:
    return lambda: order_transition(store=store, order=order, to_status="confirmed", actor="t")


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_consumer_never_receives_a_later_commit_before_an_earlier_open_write(
    client, store, mug, separate_count_slots
):
    # Given a consumer that has received the store's events so far
    for _ in range(2):
        create_order(client, store, [(mug, 1)])
    consumer = Consumer(client)
    assert len(consumer.poll_until(2)) == 2
    store.refresh_from_db()  # the orders above took numbers
    early, late = make_order(store=store), make_order(store=store)  # factories: no events

    # When transaction A writes its event and stays open while B writes one and commits
    with transaction_held_open(confirm(store, early)):
        run_concurrently([confirm(store, late)])
        b_event = Event.objects.get(order_id=late.pk)  # committed: a plain read sees it
        assert not Event.objects.filter(order_id=early.pk).exists()

        # Then the consumer receives neither yet: B waits behind A
        assert consumer.poll() == []

    # And once A commits, continuing from its cursor it receives both, A first
    a_event = Event.objects.get(order_id=early.pk)
    assert a_event.position < b_event.position
    assert consumer.poll_until(2) == [a_event.public_id, b_event.public_id]
    assert consumer.poll() == []


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_reading_by_time_instead_would_have_missed_the_earlier_write_for_good(
    store, separate_count_slots
):
    early, late = make_order(store=store), make_order(store=store)

    with transaction_held_open(confirm(store, early)):
        run_concurrently([confirm(store, late)])
        # A reader going by created_at sees B, committed, and moves its bookmark past it...
        (seen,) = Event.objects.filter(store=store).order_by("created_at")
        assert seen.order_id == late.pk
        bookmark = seen.created_at

    # ...though A's event, committed now, was written before B's: behind the bookmark.
    a_event = Event.objects.get(order_id=early.pk)
    assert a_event.created_at < seen.created_at
    assert not Event.objects.filter(store=store, created_at__gt=bookmark).exists()


def test_the_json_a_webhook_signs_is_the_feeds_rendering_byte_for_byte(client, history):
    for event in Event.objects.all():
        assert event_json(event) == dumps(render_event(event))
