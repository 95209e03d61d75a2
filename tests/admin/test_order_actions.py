import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orders.models import StoreMembership
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_dump(store):
    user = get_user_model().objects.create_user("ana@a.example", password="pw", is_staff=True)
    StoreMembership.objects.create(store=store, user=user)
    c = Client()
    c.force_login(user)
    order = make_order(store=store, payment_status="paid")
    r = c.get(f"/admin/orders/order/{order.pk}/change/")
    open("/tmp/scratch/page.html", "w").write(r.content.decode())
    r = c.post(f"/admin/orders/order/{order.pk}/transition/", {"to_status": "cancelled", "reason": "x", "etag": order.etag}, follow=True)
    open("/tmp/scratch/page2.html", "w").write(r.content.decode())
    print([str(m) for m in r.context["messages"]], r.redirect_chain)
