import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orders.models import StoreMembership


@pytest.fixture
def staff(store):
    """Ana, a staff member of `store`."""
    user = get_user_model().objects.create_user("ana", password="pw", is_staff=True)
    StoreMembership.objects.create(store=store, user=user)
    return user


@pytest.fixture
def browser(staff):
    """Ana, logged in to the admin."""
    client = Client()
    client.force_login(staff)
    return client
