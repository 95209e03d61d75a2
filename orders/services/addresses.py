"""Where an order ships to: the address a client gives and the order's columns for it."""

from dataclasses import dataclass

from orders.countries import country_name
from orders.models import Order


@dataclass(frozen=True)
class AddressInput:
    line1: str = ""
    city: str = ""
    country_code: str = ""
    name: str = ""
    phone: str = ""
    line2: str = ""
    province: str = ""
    postal_code: str = ""
    notes: str = ""


# AddressInput's fields and the order columns that keep them (country_code keeps its name
# and brings the country's name along: see address_set).
ORDER_ADDRESS_FIELDS = {
    "name": "shipping_name",
    "phone": "shipping_phone",
    "line1": "shipping_line1",
    "line2": "shipping_line2",
    "city": "shipping_city",
    "province": "shipping_province",
    "postal_code": "shipping_postal_code",
    "notes": "shipping_notes",
}


def address_set(order: Order, fields: dict[str, str]) -> None:
    """Write AddressInput `fields` (any of them) onto the unsaved `order`'s columns."""
    for field, value in fields.items():
        if field == "country_code":
            order.country_code = value.upper()
            order.shipping_country = country_name(value)
        else:
            setattr(order, ORDER_ADDRESS_FIELDS[field], value)
