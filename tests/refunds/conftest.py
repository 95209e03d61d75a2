import pytest

from tests.factories import make_shipping_method, make_tax_rate, make_variant


@pytest.fixture
def catalog(store):
    """Seed 003's catalog: a 24.00 mug and a 10.00 coaster, standard shipping 5.99, free
    pickup, Oregon at 11 % and Texas at 8.25 % (a rate whose tax rarely divides evenly)."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_shipping_method(store=store, code="pickup", price="0.00", requires_shipping=False)
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    make_tax_rate(store=store, country_code="US", province="TX", rate="0.0825")
    return {
        "mug": make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug"),
        "coaster": make_variant(store=store, price="10.00", stock=10, product_name="Coaster"),
    }
