import pytest

from tests.factories import make_staff_user, staff_client


@pytest.fixture
def staff(store):
    """Ana, a staff member of `store`."""
    return make_staff_user(store, username="ana")


@pytest.fixture
def browser(staff):
    """Ana, logged in to the admin."""
    return staff_client(user=staff)
