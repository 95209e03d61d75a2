import time

import pytest
from django.core.cache import caches

from orders.models import Store
from orders.services import api_keys
from tests.factories import make_api_key, make_store
from tests.helpers import api_client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher spends most of a second per hash by design; the suite creates
    # hundreds of staff users, and what it tests is never the hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_cached_api_keys(monkeypatch):
    """Every test starts with no API key cached, here or in the shared cache (an earlier
    test's rows are rolled back, their ids reused on SQLite), and with the copies' clock
    stopped: a warm key stays warm through the test, so its query counts do not depend on
    how long it runs. A test that changes a key or store behind the service's back and
    wants it seen at once calls api_keys.api_key_forget(prefix), or moves copy_clock."""
    stopped_at = time.time()
    monkeypatch.setattr(api_keys, "copy_clock", lambda: stopped_at)
    api_keys.api_keys_forget_local_copies()
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def store(db):
    """The store most tests work in. Premium on purpose: orders, cancels, voids and refunds
    are tested with the stock they reserve and give back, which only the premium plan
    counts (orders.plans). Free stores (the model's default, as `other_store` is) have
    their own tests in tests/orders/test_plans.py, through `free_store`."""
    return make_store(name="Acme Outfitters", plan=Store.Plan.PREMIUM)


@pytest.fixture
def free_store(db):
    """A store on the free plan: no inventory control."""
    return make_store(name="Thrifty Goods")


@pytest.fixture
def other_store(db):
    return make_store(name="Other Store")


@pytest.fixture
def los_angeles(db):
    """A store that keeps Los Angeles time (UTC-8 in winter, UTC-7 from 8 March 2026)."""
    return make_store(name="LA Store", timezone="America/Los_Angeles")


@pytest.fixture
def api_key(store):
    return make_api_key(store=store)


@pytest.fixture
def client(api_key):
    """An API client authenticated with a full-scope key of `store`."""
    return api_client(api_key)


@pytest.fixture
def anonymous_client():
    return api_client()
