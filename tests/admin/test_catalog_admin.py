import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orders.models import StoreMembership
from tests.factories import make_variant

pytestmark = pytest.mark.django_db


def test_dump(store):
    user = get_user_model().objects.create_user("ana", password="pw", is_staff=True)
    StoreMembership.objects.create(store=store, user=user)
    c = Client()
    c.force_login(user)
    v = make_variant(store=store, stock=10)
    r = c.get(f"/admin/orders/product/{v.product_id}/change/")
    open("/tmp/scratch/product.html", "w").write(r.content.decode())
