"""API keys in the admin: a new key is shown once and only its hash is kept; its scopes
and store are fixed once issued; revoking it locks its client out; and a member issues
keys for their own stores only."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from orders.models import ApiKey
from orders.models.store import API_KEY_LOOKUP_LENGTH, hash_api_key
from orders.services import api_key_create
from tests.factories import make_order
from tests.helpers import api_client, assert_error, messages_of

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/orders/apikey/add/"
LIST_URL = "/admin/orders/apikey/"
RAW_KEY = re.compile(r"wk_live_[A-Za-z0-9_-]{40}")


def in_a_month() -> datetime:
    return (timezone.now() + timedelta(days=30)).replace(
        hour=12, minute=0, second=0, microsecond=0, tzinfo=UTC
    )


def key_form(store, *, scopes=("read:orders", "write:orders"), expires_at=None, **fields):
    """The add form as the page posts it (times in UTC: the store's zone)."""
    return {
        "store": str(store.pk),
        "name": "ERP sync",
        "scopes": list(scopes),
        "expires_at_0": expires_at.strftime("%Y-%m-%d") if expires_at else "",
        "expires_at_1": expires_at.strftime("%H:%M:%S") if expires_at else "",
        **fields,
    }


def create_key(browser, store, **options):
    """Add a key through the admin; the response and the raw key its page showed."""
    response = browser.post(ADD_URL, key_form(store, **options))
    assert response.status_code == 200
    shown = re.search(r'<code id="new-api-key">([^<]+)</code>', response.content.decode())
    return response, shown.group(1)


def change_url(api_key) -> str:
    return f"/admin/orders/apikey/{api_key.pk}/change/"


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(browser, store, staff):
    response, raw_key = create_key(browser, store)

    assert RAW_KEY.fullmatch(raw_key)
    assert "Copy this key now: it is shown only once, and only its prefix is kept." in (
        response.content.decode()
    )
    # Never in a message (they may travel in a cookie) and never cached on the way.
    assert raw_key not in str(response.cookies)
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hash_api_key(raw_key)
    assert api_key.prefix == raw_key[:API_KEY_LOOKUP_LENGTH]
    assert (api_key.store, api_key.name, api_key.created_by) == (store, "ERP sync", staff)
    assert api_key.scopes == ["read:orders", "write:orders"]
    assert api_key.expires_at is None
    stored = [str(getattr(api_key, field.attname)) for field in ApiKey._meta.concrete_fields]
    assert not [value for value in stored if raw_key in value]


def test_the_new_key_works_against_the_api(browser, store):
    make_order(store=store)
    _, raw_key = create_key(browser, store)

    response = api_client(raw_key).get("/v1/orders")

    assert response.status_code == 200
    assert [order["order_number"] for order in response.json()["data"]] == [1001]


def test_after_the_first_page_only_the_prefix_is_ever_shown(browser, store):
    _, raw_key = create_key(browser, store)
    api_key = ApiKey.objects.get()

    for page in (change_url(api_key), LIST_URL):
        body = browser.get(page).content.decode()
        assert api_key.prefix in body
        assert raw_key not in body
        assert raw_key[API_KEY_LOOKUP_LENGTH:] not in body


def test_the_new_keys_page_and_the_admin_log_name_the_key_by_its_prefix(browser, store):
    response, _ = create_key(browser, store)
    api_key = ApiKey.objects.get()

    assert f"API key {api_key.prefix}… (ERP sync) created" in response.content.decode()
    assert LogEntry.objects.get().object_repr == f"{api_key.prefix}… (ERP sync)"


def test_a_key_with_an_expiry_expires_then(browser, store):
    expires_at = in_a_month()

    create_key(browser, store, expires_at=expires_at)

    assert ApiKey.objects.get().expires_at == expires_at


@pytest.mark.parametrize(
    ("options", "field", "error"),
    [
        ({"scopes": ()}, "scopes", "This field is required."),
        (
            {"expires_at": datetime(2020, 1, 1, 12, tzinfo=UTC)},
            "expires_at",
            "Choose a moment in the future, or leave it empty. To stop a key now, revoke it.",
        ),
    ],
    ids=["without scopes", "expiring in the past"],
)
def test_a_key_that_cannot_be_issued_is_refused_and_none_is_created(
    browser, store, options, field, error
):
    response = browser.post(ADD_URL, key_form(store, **options), follow=True)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [error]}
    assert ApiKey.objects.count() == 0
    assert not RAW_KEY.search(response.content.decode())


def test_a_member_is_offered_only_their_stores_and_cannot_post_another(browser, store, other_store):
    form = browser.get(ADD_URL).context["adminform"].form
    assert [(str(value), label) for value, label in form.fields["store"].choices] == [
        ("", "- Select an option -"),
        (str(store.pk), "Acme Outfitters"),
    ]

    response = browser.post(ADD_URL, key_form(other_store), follow=True)

    assert response.context["adminform"].form.errors == {
        "store": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert ApiKey.objects.count() == 0


def test_the_change_page_edits_the_name_and_expiry_only(browser, store, other_store):
    _, raw_key = create_key(browser, store)
    api_key = ApiKey.objects.get()
    expires_at = in_a_month()

    response = browser.post(
        change_url(api_key),
        key_form(
            other_store,
            name="Warehouse",
            scopes=["write:refunds"],
            expires_at=expires_at,
            prefix="wk_live_stolen00",
            key_hash="0" * 64,
            revoked_at_0="2020-01-01",
        ),
        follow=True,
    )

    assert response.status_code == 200
    changed = ApiKey.objects.get()
    assert (changed.name, changed.expires_at) == ("Warehouse", expires_at)
    assert changed.store_id == store.pk
    assert changed.scopes == ["read:orders", "write:orders"]
    assert (changed.prefix, changed.key_hash) == (api_key.prefix, api_key.key_hash)
    assert changed.revoked_at is None
    assert api_client(raw_key).get("/v1/orders").status_code == 200


def test_the_change_page_shows_store_and_scopes_read_only(browser, store):
    create_key(browser, store)
    api_key = ApiKey.objects.get()

    response = browser.get(change_url(api_key))

    assert list(response.context["adminform"].form.fields) == ["name", "expires_at"]
    body = response.content.decode()
    assert '<div class="readonly">read:orders, write:orders</div>' in body
    assert 'name="store"' not in body
    assert 'name="scopes"' not in body


def test_the_change_page_refuses_an_expiry_in_the_past(browser, store):
    create_key(browser, store)
    api_key = ApiKey.objects.get()

    response = browser.post(
        change_url(api_key),
        key_form(store, name="Renamed", expires_at=datetime(2020, 1, 1, 12, tzinfo=UTC)),
    )

    assert response.context["adminform"].form.errors == {
        "expires_at": [
            "Choose a moment in the future, or leave it empty. To stop a key now, revoke it."
        ]
    }
    unchanged = ApiKey.objects.get()
    assert (unchanged.name, unchanged.expires_at) == ("ERP sync", None)


def revoke(browser, *api_keys):
    return browser.post(
        LIST_URL,
        {
            "action": "revoke_keys",
            "index": "0",
            "select_across": "0",
            "_selected_action": [str(api_key.pk) for api_key in api_keys],
        },
        follow=True,
    )


def test_revoking_a_key_locks_its_client_out(browser, store):
    _, raw_key = create_key(browser, store)
    api_key = ApiKey.objects.get()

    response = revoke(browser, api_key)

    assert messages_of(response) == [
        ("info", "Revoked 1 key(s); requests with them now answer 401 INVALID_API_KEY.")
    ]
    assert ApiKey.objects.get().revoked_at is not None
    answer = api_client(raw_key).get("/v1/orders")
    assert_error(answer, 401, "INVALID_API_KEY")


def test_revoking_a_revoked_key_again_keeps_its_first_revocation(browser, store):
    create_key(browser, store)
    api_key = ApiKey.objects.get()
    revoke(browser, api_key)
    first = ApiKey.objects.get().revoked_at

    response = revoke(browser, api_key)

    assert messages_of(response) == [
        ("info", "Revoked 0 key(s); requests with them now answer 401 INVALID_API_KEY.")
    ]
    assert ApiKey.objects.get().revoked_at == first


def test_a_member_cannot_revoke_another_stores_key(browser, other_store):
    foreign, raw_key = api_key_create(store=other_store, scopes=["read:orders"], name="B")

    revoke(browser, foreign)

    assert ApiKey.objects.get(pk=foreign.pk).revoked_at is None
    assert api_client(raw_key).get("/v1/orders").status_code == 200
