"""Webhook endpoints in the admin: the secret is shown once, on its own page; changes,
disabling, rotation, retries and replays go through webhooks.services and say what they
did; the banner of a disabled endpoint re-enables it in one click; a free store is told
why it cannot add one; and a member never reaches another store's endpoint."""

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.ids import uuid7
from orders.models import Event
from tests.factories import make_store, staff_client
from tests.helpers import messages_of, submitted_form
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/webhooks/webhookendpoint/"
ADD_URL = f"{LIST_URL}add/"
RECEIVER = "http://127.0.0.1:9/hooks/ordo"
SECRET = re.compile(r'<code id="new-webhook-secret">(whsec_[^<]+)</code>')
PLAN_REFUSAL = "Webhook delivery requires the premium plan. Upgrade your plan to use it."

_positions = itertools.count(1)


@pytest.fixture(autouse=True)
def loopback_receivers(settings):
    # The receivers of these tests live on this machine; production refuses them.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def page(endpoint, action: str = "change") -> str:
    return f"{LIST_URL}{endpoint.pk}/{action}/"


def retry_url(endpoint, delivery) -> str:
    return page(endpoint, f"deliveries/{delivery.pk}/retry")


def make_endpoint(store, **fields) -> WebhookEndpoint:
    fields = {"url": RECEIVER, "events": ["order.*"], "description": "ERP sync", **fields}
    endpoint, _ = services.endpoint_create(store=store, **fields)
    return endpoint


def make_delivery(endpoint, *, status="failed", created_at=None, **fields) -> WebhookDelivery:
    """A delivery of a new order.paid event to `endpoint`, after one attempt."""
    created_at = created_at or timezone.now()
    position = next(_positions)
    event = Event.objects.create(
        store_id=endpoint.store_id, type="order.paid", order_id=uuid7(), position=position,
        created_at=created_at, data_json="{}",
    )  # fmt: skip
    defaults = {
        "attempts": 1,
        "last_attempt_at": created_at,
        "last_status_code": 500 if status == "failed" else 200,
        "last_duration_ms": 12,
        "next_attempt_at": created_at + timedelta(days=1),
    }
    return WebhookDelivery.objects.create(
        store_id=endpoint.store_id, endpoint=endpoint, event=event, event_type=event.type,
        order_id=event.order_id, sequence=position, status=status, created_at=created_at,
        **{**defaults, **fields},
    )  # fmt: skip


def add_form(store, **fields) -> dict:
    return {
        "store": str(store.pk),
        "url": RECEIVER,
        "events": ["order.paid", "refund.*"],
        "description": "Warehouse",
        **fields,
    }


def change_form(endpoint, **fields) -> dict:
    data = {"url": endpoint.url, "events": endpoint.events, "description": endpoint.description}
    if endpoint.status == "enabled":
        data["enabled"] = "on"
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def body(response) -> str:
    return response.content.decode()


# --- adding: the secret once --------------------------------------------------------------


def test_a_new_endpoint_shows_its_secret_once_and_never_again(browser, store, staff):
    response = browser.post(ADD_URL, add_form(store))

    assert response.status_code == 200
    secret = SECRET.search(body(response)).group(1)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret
    assert (endpoint.store, endpoint.url, endpoint.description) == (store, RECEIVER, "Warehouse")
    assert endpoint.events == ["order.paid", "refund.*"]
    assert "Copy this signing secret now: it is shown only once." in body(response)
    # Never in a message (they may travel in a cookie), never cached on the way.
    assert secret not in str(response.cookies)
    assert "no-store" in response["Cache-Control"]
    for later in (page(endpoint), LIST_URL, page(endpoint, "history")):
        assert secret not in body(browser.get(later))
    assert LogEntry.objects.get().action_flag == ADDITION


def test_the_add_form_refuses_a_private_address_in_the_services_words(browser, store, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False

    response = browser.post(ADD_URL, add_form(store, url="https://127.0.0.1/hooks"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["url"] == [
        "127.0.0.1 resolves to 127.0.0.1, a private, loopback or link-local address; "
        "webhooks go to public addresses only."
    ]
    assert 'value="https://127.0.0.1/hooks"' in body(response)  # the input is kept
    assert not WebhookEndpoint.objects.exists()


def test_the_add_form_refuses_an_endpoint_without_events(browser, store):
    response = browser.post(ADD_URL, add_form(store, events=[]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["events"] == ["This field is required."]
    assert not WebhookEndpoint.objects.exists()


def test_a_free_store_is_told_its_plan_has_no_webhooks(free_store):
    browser = staff_client(free_store, username="fred@thrifty.example")

    opened = browser.get(ADD_URL)
    posted = browser.post(ADD_URL, add_form(free_store))

    assert opened.status_code == 200
    assert messages_of(opened) == [("error", PLAN_REFUSAL)]
    assert posted.status_code == 200
    assert posted.context["adminform"].form.non_field_errors() == [PLAN_REFUSAL]
    assert PLAN_REFUSAL in body(posted)
    assert not WebhookEndpoint.objects.exists()


def test_the_store_limit_is_refused_above_the_form(browser, store):
    for n in range(services.MAX_ENDPOINTS_PER_STORE):
        make_endpoint(store, description=f"receiver {n}")

    response = browser.post(ADD_URL, add_form(store))

    assert response.status_code == 200
    assert (
        response.context["adminform"]
        .form.errors["url"][0]
        .startswith(f"A store has at most {services.MAX_ENDPOINTS_PER_STORE} webhook endpoints.")
    )
    assert WebhookEndpoint.objects.count() == services.MAX_ENDPOINTS_PER_STORE


# --- changing, disabling, enabling, deleting ------------------------------------------------


def test_staff_change_the_url_events_and_description(browser, store):
    endpoint = make_endpoint(store)

    response = browser.post(
        page(endpoint),
        change_form(endpoint, url="http://127.0.0.1:9/v2", events=["*"], description="ERP, new"),
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        "http://127.0.0.1:9/v2",
        ["*"],
        "ERP, new",
    )
    assert endpoint.status == "enabled"


def test_a_refused_change_keeps_the_endpoint_as_it_was(browser, store, settings):
    endpoint = make_endpoint(store)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False

    response = browser.post(page(endpoint), change_form(endpoint, url="https://10.0.0.7/hooks"))

    assert response.status_code == 200
    assert (
        "a private, loopback or link-local address"
        in (response.context["adminform"].form.errors["url"][0])
    )
    endpoint.refresh_from_db()
    assert endpoint.url == RECEIVER


def test_unticking_enabled_disables_the_endpoint_and_ticking_it_enables_it_fresh(browser, store):
    endpoint = make_endpoint(store)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())

    browser.post(page(endpoint), change_form(endpoint, enabled=None))
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    assert endpoint.disabled_at is not None

    browser.post(page(endpoint), change_form(endpoint, enabled="on"))
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled"
    assert (endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason) == (
        None,
        None,
        "",
    )


def test_deleting_an_endpoint_takes_its_log_with_it(browser, store):
    endpoint = make_endpoint(store)
    make_delivery(endpoint)

    confirm = browser.get(page(endpoint, "delete"))
    response = browser.post(page(endpoint, "delete"), {"post": "yes"})

    assert "Deliveries: 1" in body(confirm)
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert Event.objects.count() == 1  # the feed keeps its events


def test_the_lists_delete_action_deletes_only_the_chosen_endpoints(browser, store):
    chosen, kept = make_endpoint(store), make_endpoint(store, description="Kept")
    make_delivery(chosen)
    form = {"action": "delete_selected", "_selected_action": [str(chosen.pk)]}

    confirm = browser.post(LIST_URL, form)
    browser.post(LIST_URL, {**form, "post": "yes"})

    assert "Deliveries: 1" in body(confirm)
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not WebhookDelivery.objects.exists()


# --- rotating the secret --------------------------------------------------------------------


def test_rotating_shows_the_new_secret_once_and_the_old_one_signs_24_hours_more(browser, store):
    endpoint = make_endpoint(store)
    old_secret = endpoint.secret
    before = timezone.now()

    response = browser.post(page(endpoint, "rotate-secret"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new_secret = SECRET.search(body(response)).group(1)
    assert "The old secret keeps signing for 24 hours more" in body(response)
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (new_secret, old_secret)
    assert before + timedelta(hours=24) <= endpoint.previous_secret_expires_at
    assert endpoint.previous_secret_expires_at <= timezone.now() + timedelta(hours=24)
    assert endpoint.signing_secrets(at=timezone.now()) == [new_secret, old_secret]
    shown_later = body(browser.get(page(endpoint)))
    assert new_secret not in shown_later
    assert old_secret not in shown_later
    assert "The secret it replaced signs each delivery too until" in shown_later


def test_rotating_is_refused_with_a_message_once_the_store_is_on_the_free_plan(browser, store):
    endpoint = make_endpoint(store)
    old_secret = endpoint.secret
    store.plan = "free"
    store.save(update_fields=["plan"])

    response = browser.post(page(endpoint, "rotate-secret"), follow=True)

    assert messages_of(response) == [("error", PLAN_REFUSAL)]
    endpoint.refresh_from_db()
    assert endpoint.secret == old_secret


# --- the delivery log, retry and replay ------------------------------------------------------


def test_the_endpoint_page_shows_its_deliveries_newest_first(browser, store):
    endpoint = make_endpoint(store)
    older = make_delivery(
        endpoint, last_response_body="upstream down " + "x" * 2000, last_error="HTTP 500"
    )
    newer = make_delivery(endpoint, status="succeeded", last_status_code=204, last_duration_ms=87)

    response = browser.get(page(endpoint))

    assert [row.pk for row in response.context["deliveries"]] == [newer.pk, older.pk]
    shown = body(response)
    assert shown.index(newer.public_id) < shown.index(older.public_id)
    assert older.event_id.hex[:8] in shown
    assert "HTTP 204 · 87 ms" in shown
    assert "upstream down " + "x" * 1010 in shown
    assert "x" * 1011 not in shown  # the first 1 KB of the response, no more
    assert "HTTP 500" in shown


def test_the_log_shows_the_newest_50_deliveries(browser, store):
    endpoint = make_endpoint(store)
    deliveries = [make_delivery(endpoint) for _ in range(52)]

    response = browser.get(page(endpoint))

    shown = [row.pk for row in response.context["deliveries"]]
    assert shown == [delivery.pk for delivery in reversed(deliveries[2:])]
    assert "Deliveries (the newest 50)" in body(response)


def test_retry_queues_a_failed_delivery_to_go_out_now(browser, store):
    endpoint = make_endpoint(store)
    delivery = make_delivery(endpoint, status="failed")
    opened = browser.get(page(endpoint))

    response = browser.post(
        retry_url(endpoint, delivery),
        submitted_form(opened, f"retry-{delivery.pk}"),
        follow=True,
    )

    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at <= timezone.now()
    assert delivery.first_attempt_at is None  # a fresh retry window
    assert messages_of(response) == [
        (
            "success",
            f"Delivery {delivery.public_id} (order.paid) is queued to go out now, after any "
            "earlier delivery of the same order.",
        )
    ]


def test_replay_queues_the_failed_deliveries_since_the_moment_given(browser, store):
    endpoint = make_endpoint(store)
    since = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    before = make_delivery(endpoint, created_at=since - timedelta(minutes=5))
    failed = [make_delivery(endpoint, created_at=since + timedelta(minutes=n)) for n in (1, 2)]
    delivered = make_delivery(endpoint, status="succeeded", created_at=since + timedelta(minutes=3))
    moment = timezone.localtime(since, store.tzinfo).strftime("%Y-%m-%dT%H:%M")

    response = browser.post(
        page(endpoint, "replay"), {"since": moment, "status": "failed"}, follow=True
    )

    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert [statuses[d.pk] for d in failed] == ["pending", "pending"]
    assert (statuses[before.pk], statuses[delivered.pk]) == ("failed", "succeeded")
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert text.startswith("Queued 2 failed deliveries since ")

    again = browser.post(page(endpoint, "replay"), {"since": moment, "status": "all"}, follow=True)

    # "All": the delivered one, and the two waiting ones, sent now rather than later.
    assert messages_of(again)[0][1].startswith("Queued 3 deliveries since ")
    assert WebhookDelivery.objects.get(pk=delivered.pk).status == "pending"
    assert WebhookDelivery.objects.get(pk=before.pk).status == "failed"


def test_a_replay_with_nothing_to_queue_says_so(browser, store):
    endpoint = make_endpoint(store)
    make_delivery(endpoint, status="succeeded")

    response = browser.post(
        page(endpoint, "replay"), {"since": "2026-01-01T00:00", "status": "failed"}, follow=True
    )

    [(level, text)] = messages_of(response)
    assert level == "warning"
    assert text.startswith("No failed deliveries since ")
    assert text.endswith("; nothing was queued.")


def test_a_replay_without_a_moment_is_refused_with_a_message(browser, store):
    endpoint = make_endpoint(store)

    response = browser.post(
        page(endpoint, "replay"), {"since": "", "status": "failed"}, follow=True
    )

    assert messages_of(response) == [("error", "Since: This field is required.")]


def test_the_list_shows_each_endpoints_last_delivery(browser, store):
    quiet = make_endpoint(store, description="Quiet")
    failing = make_endpoint(store, description="Failing")
    make_delivery(failing, status="succeeded")
    make_delivery(failing, status="failed", last_status_code=503)

    response = browser.get(LIST_URL)

    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert (rows[failing.pk].last_delivery_status, rows[failing.pk].last_delivery_code) == (
        "failed",
        503,
    )
    assert rows[quiet.pk].last_delivery_status is None
    assert "Failed (503)" in body(response)


def test_the_endpoint_page_runs_as_many_queries_for_30_deliveries_as_for_3(browser, store):
    endpoint = make_endpoint(store)
    for _ in range(3):
        make_delivery(endpoint)
    browser.get(page(endpoint))  # warms per-process caches (content types)

    with CaptureQueriesContext(connection) as few:
        assert browser.get(page(endpoint)).status_code == 200
    for _ in range(27):
        make_delivery(endpoint)
    with CaptureQueriesContext(connection) as many:
        assert browser.get(page(endpoint)).status_code == 200

    assert len(many) == len(few)


# --- the banner of a disabled endpoint -------------------------------------------------------

REASON = "Every delivery failed for 3 days (last: HTTP 500)."


def disable(endpoint, reason: str = REASON) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        status="disabled", disabled_at=timezone.now(), disabled_reason=reason,
        failing_since=timezone.now() - timedelta(days=3),
    )  # fmt: skip


def test_the_dashboard_shows_a_banner_for_a_disabled_endpoint(browser, store):
    endpoint = make_endpoint(store)
    disable(endpoint)

    shown = body(browser.get("/admin/"))

    assert 'id="webhook-banner"' in shown
    assert f'Webhook endpoint <a href="{page(endpoint)}">{RECEIVER}</a>' in shown
    assert REASON in shown


def test_the_banners_button_enables_the_endpoint_again(browser, store):
    endpoint = make_endpoint(store)
    disable(endpoint)
    dashboard = browser.get("/admin/orders/order/")

    response = browser.post(
        page(endpoint, "enable"), submitted_form(dashboard, f"enable-{endpoint.pk}")
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/orders/order/")
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.failing_since, endpoint.disabled_reason) == (
        "enabled",
        None,
        "",
    )
    after = browser.get("/admin/orders/order/")
    assert messages_of(after) == [
        ("success", f"{RECEIVER} is enabled again: its waiting deliveries go out, in order.")
    ]
    assert 'id="webhook-banner"' not in body(after)


def test_no_banner_while_every_endpoint_is_enabled(browser, store):
    make_endpoint(store)

    assert 'id="webhook-banner"' not in body(browser.get("/admin/"))


def test_the_banner_shows_only_the_members_stores(browser, other_store):
    other_store.plan = "premium"
    other_store.save(update_fields=["plan"])
    disable(make_endpoint(other_store, url="http://127.0.0.1:9/theirs"))

    assert "/theirs" not in body(browser.get("/admin/"))


# --- another store's endpoints ------------------------------------------------------------------


@pytest.fixture
def foreign_endpoint(other_store):
    other_store.plan = "premium"
    other_store.save(update_fields=["plan"])
    endpoint = make_endpoint(other_store, url="http://127.0.0.1:9/bertha-secret")
    disable(endpoint)
    return endpoint


def endpoint_record(endpoint) -> dict:
    return {
        "endpoint": WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get(),
        "deliveries": list(WebhookDelivery.objects.filter(endpoint=endpoint).values()),
    }


@pytest.mark.parametrize("action", ["change", "history", "delete"])
def test_another_stores_endpoint_pages_are_not_found(browser, foreign_endpoint, action):
    response = browser.get(page(foreign_endpoint, action))
    missing = browser.get(f"{LIST_URL}{uuid7()}/{action}/")

    assert response.status_code == missing.status_code == 404
    assert "bertha-secret" not in body(response)


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("change", {"url": RECEIVER, "events": ["*"], "description": "hijacked", "enabled": "on"}),
        ("delete", {"post": "yes"}),
        ("rotate-secret", {}),
        ("enable", {}),
        ("replay", {"since": "2020-01-01T00:00", "status": "all"}),
        ("deliveries/{delivery}/retry", {}),
    ],
)
def test_a_member_cannot_act_on_another_stores_endpoint(browser, foreign_endpoint, action, form):
    delivery = make_delivery(foreign_endpoint, status="failed")
    before = endpoint_record(foreign_endpoint)

    response = browser.post(page(foreign_endpoint, action.format(delivery=delivery.pk)), form)

    assert response.status_code == 404
    assert endpoint_record(foreign_endpoint) == before


def test_another_stores_delivery_cannot_be_retried_through_ones_own_endpoint(
    browser, store, foreign_endpoint
):
    own = make_endpoint(store)
    theirs = make_delivery(foreign_endpoint, status="failed")

    response = browser.post(retry_url(own, theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "failed"


def test_the_list_shows_only_the_members_endpoints(browser, store, foreign_endpoint):
    own = make_endpoint(store)

    response = browser.get(LIST_URL)

    assert [row.pk for row in response.context["cl"].result_list] == [own.pk]
    assert "bertha-secret" not in body(response)


def test_events_are_listed_per_store(browser, store, other_store):
    own = Event.objects.create(
        store=store, type="order.created", order_id=uuid7(), position=1, data_json="{}"
    )
    Event.objects.create(
        store=other_store, type="order.created", order_id=uuid7(), position=2, data_json="{}"
    )

    response = browser.get("/admin/orders/event/")

    assert [event.pk for event in response.context["cl"].result_list] == [own.pk]
    assert browser.get(f"/admin/orders/event/{own.pk}/change/").status_code == 200


def test_a_superuser_banner_lists_a_few_and_links_to_the_rest(db):
    stores = [make_store(name=f"Store {n}", plan="premium") for n in range(7)]
    for store in stores:
        disable(make_endpoint(store))
    browser = staff_client(username="root@ordo.example", superuser=True)

    shown = body(browser.get("/admin/"))

    assert shown.count('class="button">Re-enable</button>') == 5
    assert "See every disabled endpoint" in shown
