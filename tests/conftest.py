import pytest

from orders.models import Store
from tests.factories import make_api_key, make_store
from tests.helpers import api_client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher spends most of a second per hash by design; the suite creates
    # hundreds of staff users, and what it tests is never the hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
