"""The webhooks API (DESIGN.md "Events and webhooks"): endpoints and their secrets, the
delivery log, retries and replays; premium only, scope manage:webhooks, strict input."""

import socket
import uuid
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Event, Scope
from orders.services import order_update
from tests.factories import make_api_key, make_order
from tests.helpers import (
    api_client,
    assert_error,
    assert_rejected,
    assert_scope_refused,
    created,
    data_of,
    parse_timestamp,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import generate_secret

pytestmark = pytest.mark.django_db

ENDPOINTS = "/v1/webhook-endpoints"
# Names the tests' resolver answers (the sandbox has no DNS): one public, one private.
PUBLIC_HOST, PUBLIC_ADDRESS = "hooks.example.com", "93.184.215.14"
PRIVATE_HOST, PRIVATE_ADDRESS = "intranet.example.com", "10.20.30.40"
URL = f"https://{PUBLIC_HOST}/ordo"
ENDPOINT_KEYS = {
    "object", "id", "url", "events", "description", "status", "disabled_reason",
    "disabled_at", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture(autouse=True)
def resolver(monkeypatch):
    """DNS as the tests need it: PUBLIC_HOST and PRIVATE_HOST resolve, other names do not
    (address literals still resolve to themselves)."""
    real = socket.getaddrinfo
    known = {PUBLIC_HOST: PUBLIC_ADDRESS, PRIVATE_HOST: PRIVATE_ADDRESS}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in known:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (known[host], port))]
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        except OSError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def create_endpoint(client, headers: dict | None = None, **body):
    body = {"url": URL, "events": ["order.*"], **body}
    return client.post(ENDPOINTS, body, format="json", headers=headers)


def endpoint_of(data: dict) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(pk=data["id"].removeprefix("we_"))


@pytest.fixture
def endpoint(client) -> dict:
    return created(create_endpoint(client, description="Warehouse"))


# --- endpoints -------------------------------------------------------------------------------


def test_creating_an_endpoint_answers_201_with_its_secret_once(client, store):
    response = create_endpoint(client, events=["order.paid", "refund.*"], description=" ERP ")

    data = created(response)
    assert set(data) == ENDPOINT_KEYS | {"secret"}
    assert data["secret"].startswith("whsec_")
    assert data["object"] == "webhook_endpoint"
    assert (data["url"], data["events"], data["description"]) == (
        URL,
        ["order.paid", "refund.*"],
        "ERP",
    )
    assert (data["status"], data["disabled_reason"], data["disabled_at"]) == ("enabled", None, None)
    assert response["Location"] == f"/v1/stores/{store.public_id}/webhook-endpoints/{data['id']}"
    assert endpoint_of(data).secret == data["secret"]


def test_the_secret_is_never_shown_again(client, endpoint):
    shown = data_of(client.get(f"{ENDPOINTS}/{endpoint['id']}"))
    listed = client.get(ENDPOINTS).json()["data"]

    assert set(shown) == ENDPOINT_KEYS
    assert [set(item) for item in listed] == [ENDPOINT_KEYS]
    assert endpoint["secret"] not in client.get(ENDPOINTS).content.decode()


def test_a_retried_create_with_its_idempotency_key_makes_one_endpoint(client, store):
    first = create_endpoint(client, {"Idempotency-Key": "create-hook-1"})
    again = create_endpoint(client, {"Idempotency-Key": "create-hook-1"})

    assert created(again) == created(first)
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.filter(store=store).count() == 1


def test_the_list_holds_the_stores_endpoints_newest_first_in_the_list_envelope(client, store):
    ids = [created(create_endpoint(client, description=str(i)))["id"] for i in range(3)]

    first = client.get(ENDPOINTS, {"per_page": 2}).json()
    rest = client.get(ENDPOINTS, {"per_page": 2, "cursor": first["pagination"]["next_cursor"]})

    assert first["object"] == "list"
    assert [e["id"] for e in first["data"]] == ids[::-1][:2]
    assert (first["pagination"]["total"], first["pagination"]["has_more"]) == (3, True)
    assert [e["id"] for e in rest.json()["data"]] == [ids[0]]
    assert rest.json()["pagination"]["has_more"] is False


def test_patch_changes_url_events_and_description(client, endpoint):
    response = client.patch(
        f"{ENDPOINTS}/{endpoint['id']}",
        {"url": f"https://{PUBLIC_HOST}/v2", "events": ["*"], "description": "All of it"},
        format="json",
    )

    data = data_of(response)
    assert (data["url"], data["events"], data["description"]) == (
        f"https://{PUBLIC_HOST}/v2",
        ["*"],
        "All of it",
    )
    assert parse_timestamp(data["updated_at"]) > parse_timestamp(endpoint["updated_at"])
    assert endpoint_of(endpoint).events == ["*"]


def test_disabling_and_enabling_an_endpoint(client, endpoint):
    url = f"{ENDPOINTS}/{endpoint['id']}"

    disabled = data_of(client.patch(url, {"status": "disabled"}, format="json"))
    enabled = data_of(client.patch(url, {"status": "enabled"}, format="json"))

    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "")
    assert disabled["disabled_at"] is not None
    assert (enabled["status"], enabled["disabled_reason"], enabled["disabled_at"]) == (
        "enabled",
        None,
        None,
    )


def test_an_endpoint_ordo_disabled_says_why(client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint_of(endpoint).pk).update(
        status="disabled", disabled_at=timezone.now(), disabled_reason="Every delivery failed."
    )

    shown = data_of(client.get(f"{ENDPOINTS}/{endpoint['id']}"))

    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "Every delivery failed.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"enabled": True}, "enabled"),
        ({"status": "paused"}, "status"),
        ({"events": []}, "events"),
        ({"url": "   "}, "url"),
    ],
)
def test_a_patch_the_document_refuses_is_400_and_changes_nothing(client, endpoint, body, field):
    before = WebhookEndpoint.objects.filter(pk=endpoint_of(endpoint).pk).values().get()

    response = client.patch(f"{ENDPOINTS}/{endpoint['id']}", body, format="json")

    assert_rejected(response, field)
    assert WebhookEndpoint.objects.filter(pk=endpoint_of(endpoint).pk).values().get() == before


def test_deleting_an_endpoint_removes_it_and_its_log(client, store, endpoint):
    delivery = make_delivery(store, endpoint_of(endpoint), order_event(store))

    response = client.delete(f"{ENDPOINTS}/{endpoint['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(f"{ENDPOINTS}/{endpoint['id']}"), 404, "NOT_FOUND")
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert Event.objects.filter(pk=delivery.event_id).exists()


def test_rotating_the_secret_shows_the_new_one_and_the_old_keeps_signing_for_a_day(
    client, endpoint
):
    response = client.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret")

    data = data_of(response)
    stored = endpoint_of(endpoint)
    now = timezone.now()
    assert data["secret"].startswith("whsec_")
    assert data["secret"] != endpoint["secret"]
    assert stored.secret == data["secret"]
    assert stored.signing_secrets(at=now) == [data["secret"], endpoint["secret"]]
    assert stored.signing_secrets(at=now + timedelta(hours=23, minutes=59)) == [
        data["secret"],
        endpoint["secret"],
    ]
    assert stored.signing_secrets(at=now + timedelta(hours=24, minutes=1)) == [data["secret"]]
    assert "secret" not in data_of(client.get(f"{ENDPOINTS}/{endpoint['id']}"))


def test_rotate_secret_refuses_a_body(client, endpoint):
    response = client.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", {"a": 1}, format="json")

    assert_rejected(response, "body")
    assert endpoint_of(endpoint).secret == endpoint["secret"]


# --- what is refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://{PUBLIC_HOST}/ordo", "https://"),
        (f"https://{PRIVATE_HOST}/ordo", PRIVATE_ADDRESS),
        ("https://127.0.0.1:8443/ordo", "127.0.0.1"),
        ("https://[::1]/ordo", "::1"),
        ("https://169.254.169.254/latest", "169.254.169.254"),
        ("https://nowhere.invalid/ordo", "could not be resolved"),
        ("https://user:pass@hooks.example.com/", "passwords"),
    ],
)
def test_a_url_webhooks_may_not_go_to_is_422_naming_why(client, store, url, says):
    response = create_endpoint(client, url=url)

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["url"]
    assert says in error["details"][0]["message"]
    assert not WebhookEndpoint.objects.filter(store=store).exists()


def test_a_patch_to_a_private_url_is_422_and_keeps_the_old_one(client, endpoint):
    response = client.patch(
        f"{ENDPOINTS}/{endpoint['id']}", {"url": "https://10.0.0.1/"}, format="json"
    )

    assert_error(response, 422, "VALIDATION_ERROR")
    assert endpoint_of(endpoint).url == URL


def test_private_receivers_are_allowed_where_the_setting_says_so(client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True

    data = created(create_endpoint(client, url="http://127.0.0.1:8000/hook"))

    assert data["url"] == "http://127.0.0.1:8000/hook"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["order.shipped"]}, "events[0]"),
        ({"events": ["ORDER.*"]}, "events[0]"),
        ({"events": []}, "events"),
        ({"events": "order.paid"}, "events"),
        ({"events": [1]}, "events[0]"),
        ({"events": None}, "events"),
        ({"url": 42}, "url"),
        ({"secret": "whsec_x"}, "secret"),
        ({"callback": URL}, "callback"),
    ],
)
def test_a_create_the_document_refuses_is_400(client, store, body, field):
    response = create_endpoint(client, **body)

    assert_rejected(response, field)
    assert not WebhookEndpoint.objects.filter(store=store).exists()


def test_the_create_needs_a_url_and_events(client):
    assert_rejected(client.post(ENDPOINTS, {}, format="json"), "url", "events")


def test_a_free_store_is_told_webhooks_need_premium_on_every_route(free_store):
    client = api_client(make_api_key(store=free_store))
    # A store that was premium and downgraded keeps its rows; the API still refuses them.
    hook = WebhookEndpoint.objects.create(
        store=free_store, url=URL, events=["*"], secret=generate_secret()
    )
    delivery = make_delivery(free_store, hook, order_event(free_store))
    calls = [
        ("get", ENDPOINTS, None),
        ("post", ENDPOINTS, {"url": URL, "events": ["*"]}),
        ("get", f"{ENDPOINTS}/{hook.public_id}", None),
        ("patch", f"{ENDPOINTS}/{hook.public_id}", {"description": "x"}),
        ("post", f"{ENDPOINTS}/{hook.public_id}/rotate-secret", None),
        ("get", f"{ENDPOINTS}/{hook.public_id}/deliveries", None),
        ("post", f"{ENDPOINTS}/{hook.public_id}/replay", {"since": "2026-01-01"}),
        ("get", f"/v1/webhook-deliveries/{delivery.public_id}", None),
        ("post", f"/v1/webhook-deliveries/{delivery.public_id}/retry", None),
    ]

    for method, url, body in calls:
        response = getattr(client, method)(url, body, format="json")
        error = assert_error(response, 403, "FEATURE_ACCESS_DENIED")
        assert error["details"] == {"feature": "webhooks"}
        assert "premium" in error["message"]
    assert WebhookEndpoint.objects.filter(store=free_store).count() == 1
    assert WebhookEndpoint.objects.get(pk=hook.pk).secret == hook.secret
    # What it can no longer use, it can still remove.
    assert client.delete(f"{ENDPOINTS}/{hook.public_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(store=free_store).exists()


def test_a_key_without_manage_webhooks_is_refused(store, endpoint):
    client = api_client(make_api_key(store=store, scopes=[Scope.READ_ORDERS, Scope.WRITE_ORDERS]))

    for response in (
        client.get(ENDPOINTS),
        create_endpoint(client),
        client.get(f"{ENDPOINTS}/{endpoint['id']}"),
        client.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret"),
    ):
        assert_scope_refused(response, "manage:webhooks")
    assert WebhookEndpoint.objects.filter(store=store).count() == 1


@pytest.mark.parametrize("endpoint_id", ["we_nope", "we_00000000-0000-0000-0000-000000000000"])
def test_an_unknown_endpoint_is_404(client, endpoint_id):
    for response in (
        client.get(f"{ENDPOINTS}/{endpoint_id}"),
        client.delete(f"{ENDPOINTS}/{endpoint_id}"),
        client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries"),
    ):
        assert_error(response, 404, "NOT_FOUND")


def test_unknown_query_parameters_are_400(client, endpoint):
    assert_rejected(client.get(ENDPOINTS, {"status": "enabled"}), "status")
    assert_rejected(client.get(f"{ENDPOINTS}/{endpoint['id']}", {"expand": "x"}), "expand")


# --- the delivery log ------------------------------------------------------------------------


def order_event(store) -> Event:
    """The event of a real change to an order of `store` (its internal notes)."""
    order = make_order(store=store)
    order_update(store=store, order=order, actor="staff", details={"internal_notes": "Gift"})
    return Event.objects.filter(store=store, order_id=order.pk).latest("position")


_sequence = iter(range(1, 1_000_000))


def make_delivery(store, endpoint: WebhookEndpoint, event: Event, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        store=store,
        endpoint=endpoint,
        event=event,
        event_type=event.type,
        order_id=event.order_id,
        sequence=next(_sequence),
        **fields,
    )


def failed(**fields) -> dict:
    return {
        "status": "failed",
        "attempts": 12,
        "last_attempt_at": timezone.now(),
        "last_status_code": 500,
        "last_duration_ms": 41,
        "last_response_body": "boom",
        "last_error": "The receiver answered 500.",
        **fields,
    }


def deliveries_url(endpoint) -> str:
    return f"{ENDPOINTS}/{endpoint['id']}/deliveries"


def test_the_log_lists_deliveries_newest_first_with_their_last_attempt(client, store, endpoint):
    hook = endpoint_of(endpoint)
    waiting = make_delivery(store, hook, order_event(store))
    broken = make_delivery(store, hook, order_event(store), **failed())

    listed = client.get(deliveries_url(endpoint)).json()

    assert [d["id"] for d in listed["data"]] == [broken.public_id, waiting.public_id]
    newest, oldest = listed["data"]
    assert newest == {
        "object": "webhook_delivery",
        "id": broken.public_id,
        "endpoint_id": endpoint["id"],
        "event_id": broken.event.public_id,
        "event_type": "order.updated",
        "status": "failed",
        "attempts": 12,
        "next_attempt_at": None,
        "last_attempt": {
            "at": newest["last_attempt"]["at"],
            "status_code": 500,
            "duration_ms": 41,
            "response_body": "boom",
            "error": "The receiver answered 500.",
        },
        "created_at": newest["created_at"],
    }
    assert (oldest["status"], oldest["last_attempt"]) == ("pending", None)
    assert oldest["next_attempt_at"] is not None
    assert listed["pagination"]["total"] == 2


def test_the_log_filters_by_status(client, store, endpoint):
    hook = endpoint_of(endpoint)
    make_delivery(store, hook, order_event(store))
    broken = make_delivery(store, hook, order_event(store), **failed())
    done = make_delivery(store, hook, order_event(store), status="succeeded", attempts=1)

    def ids(status):
        return [
            d["id"] for d in client.get(deliveries_url(endpoint), {"status": status}).json()["data"]
        ]

    assert ids("failed") == [broken.public_id]
    assert ids(" Succeeded ") == [done.public_id]
    assert len(ids("pending")) == 1
    assert_rejected(client.get(deliveries_url(endpoint), {"status": "lost"}), "status")


def test_the_log_pages_by_cursor_without_gaps(client, store, endpoint):
    hook = endpoint_of(endpoint)
    made = [make_delivery(store, hook, order_event(store)).public_id for _ in range(5)]
    seen, params = [], {"per_page": 2}
    while True:
        page = client.get(deliveries_url(endpoint), params).json()
        seen += [d["id"] for d in page["data"]]
        if not page["pagination"]["has_more"]:
            break
        params = {"per_page": 2, "cursor": page["pagination"]["next_cursor"]}

    assert seen == made[::-1]


def test_the_log_holds_only_that_endpoints_deliveries(client, store, endpoint):
    other = endpoint_of(created(create_endpoint(client, description="Other")))
    make_delivery(store, other, order_event(store))

    assert client.get(deliveries_url(endpoint)).json()["data"] == []


def queries_listing(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"per_page": 50})
    assert response.status_code == 200
    return len(queries)


def test_the_lists_cost_the_same_queries_whatever_the_page_size(client, store, endpoint):
    hook = endpoint_of(endpoint)
    make_delivery(store, hook, order_event(store), **failed())
    create_endpoint(client)
    one = (queries_listing(client, deliveries_url(endpoint)), queries_listing(client, ENDPOINTS))

    for _ in range(8):
        make_delivery(store, hook, order_event(store), **failed())
        create_endpoint(client)
    nine = (queries_listing(client, deliveries_url(endpoint)), queries_listing(client, ENDPOINTS))

    assert len(client.get(deliveries_url(endpoint)).json()["data"]) == 9
    assert nine == one


def test_one_delivery_by_id(client, store, endpoint):
    delivery = make_delivery(store, endpoint_of(endpoint), order_event(store), **failed())

    data = data_of(client.get(f"/v1/webhook-deliveries/{delivery.public_id}"))

    assert (data["id"], data["status"], data["endpoint_id"]) == (
        delivery.public_id,
        "failed",
        endpoint["id"],
    )


@pytest.mark.parametrize("delivery_id", ["whd_x", "whd_00000000-0000-0000-0000-000000000000"])
def test_an_unknown_delivery_is_404(client, delivery_id):
    assert_error(client.get(f"/v1/webhook-deliveries/{delivery_id}"), 404, "NOT_FOUND")
    assert_error(client.post(f"/v1/webhook-deliveries/{delivery_id}/retry"), 404, "NOT_FOUND")


def test_retrying_a_failed_delivery_queues_it_now(client, store, endpoint):
    delivery = make_delivery(store, endpoint_of(endpoint), order_event(store), **failed())
    before = timezone.now()

    data = data_of(client.post(f"/v1/webhook-deliveries/{delivery.public_id}/retry"))

    assert data["status"] == "pending"
    assert before <= parse_timestamp(data["next_attempt_at"]) <= timezone.now()
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.first_attempt_at) == ("pending", None)
    # The log keeps what happened last until the retry is tried.
    assert data["last_attempt"]["status_code"] == 500


def test_a_delivery_a_worker_is_sending_is_not_retried_under_it(client, store, endpoint):
    leased = {
        "lease_token": uuid.uuid4(),
        "lease_expires_at": timezone.now() + timedelta(minutes=1),
    }
    delivery = make_delivery(store, endpoint_of(endpoint), order_event(store), **leased)

    response = client.post(f"/v1/webhook-deliveries/{delivery.public_id}/retry")

    assert_error(response, 409, "DELIVERY_IN_PROGRESS")
    assert WebhookDelivery.objects.get(pk=delivery.pk).lease_token == leased["lease_token"]


def test_enabling_an_endpoint_gives_its_waiting_deliveries_a_new_window_now(
    client, store, endpoint
):
    week_ago = timezone.now() - timedelta(days=7)
    waiting = make_delivery(
        store, endpoint_of(endpoint), order_event(store),
        first_attempt_at=week_ago, next_attempt_at=timezone.now() + timedelta(hours=6),
    )  # fmt: skip
    url = f"{ENDPOINTS}/{endpoint['id']}"
    data_of(client.patch(url, {"status": "disabled"}, format="json"))

    data_of(client.patch(url, {"status": "enabled"}, format="json"))

    waiting.refresh_from_db()
    assert waiting.first_attempt_at is None
    assert waiting.next_attempt_at <= timezone.now()


# --- replay ----------------------------------------------------------------------------------


def replay(client, endpoint, body):
    return client.post(f"{ENDPOINTS}/{endpoint['id']}/replay", body, format="json")


def test_replay_queues_the_failed_deliveries_since_a_time(client, store, endpoint):
    hook = endpoint_of(endpoint)
    now = timezone.now()
    old = make_delivery(
        store, hook, order_event(store), **failed(), created_at=now - timedelta(days=3)
    )
    recent = [make_delivery(store, hook, order_event(store), **failed()) for _ in range(2)]
    done = make_delivery(store, hook, order_event(store), status="succeeded", attempts=1)

    response = replay(client, endpoint, {"since": (now - timedelta(hours=1)).isoformat()})

    assert data_of(response) == {"object": "webhook_replay", "queued": 2}
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert [statuses[d.pk] for d in recent] == ["pending", "pending"]
    assert (statuses[old.pk], statuses[done.pk]) == ("failed", "succeeded")


def test_replay_of_all_takes_succeeded_and_waiting_ones_too(client, store, endpoint):
    hook = endpoint_of(endpoint)
    make_delivery(store, hook, order_event(store), **failed())
    make_delivery(store, hook, order_event(store), status="succeeded", attempts=1)
    later = timezone.now() + timedelta(hours=2)
    waiting = make_delivery(store, hook, order_event(store), next_attempt_at=later)

    response = replay(client, endpoint, {"since": "2000-01-01", "status": "all"})

    assert data_of(response)["queued"] == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
    assert WebhookDelivery.objects.get(pk=waiting.pk).next_attempt_at <= timezone.now()


def test_replay_since_a_bare_date_starts_at_that_day_in_the_stores_zone(client, store, endpoint):
    hook = endpoint_of(endpoint)
    today = timezone.localdate(timezone=store.tzinfo)
    start = datetime.combine(today, time.min, tzinfo=store.tzinfo)
    before = make_delivery(
        store, hook, order_event(store), **failed(), created_at=start - timedelta(seconds=1)
    )
    after = make_delivery(store, hook, order_event(store), **failed(), created_at=start)

    response = replay(client, endpoint, {"since": today.isoformat()})

    assert data_of(response)["queued"] == 1
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert (statuses[before.pk], statuses[after.pk]) == ("failed", "pending")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01", "status": "lost"}, "status"),
        ({"since": 20260101}, "since"),
        ({"since": "2026-01-01", "limit": 5}, "limit"),
    ],
)
def test_a_replay_the_document_refuses_is_400(client, store, endpoint, body, field):
    delivery = make_delivery(store, endpoint_of(endpoint), order_event(store), **failed())

    assert_rejected(replay(client, endpoint, body), field)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"
