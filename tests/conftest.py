import pytest
from rest_framework.test import APIClient

from tests.factories import make_api_key, make_store


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher spends most of a second per hash by design; the suite creates
    # hundreds of staff users, and what it tests is never the hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def store(db):
    return make_store(name="Acme Outfitters")


@pytest.fixture
def other_store(db):
    return make_store(name="Other Store")


@pytest.fixture
def api_key(store):
    return make_api_key(store=store)


@pytest.fixture
def client(api_key):
    """An API client authenticated with a full-scope key of `store`."""
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=api_key)
    return api


@pytest.fixture
def anonymous_client():
    return APIClient()
