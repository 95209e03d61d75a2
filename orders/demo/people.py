"""The demo's people: where customers live (and which tax they pay), their names, emails
and phones, and the store's own address for pickups.

Every string here goes into COPY text as is, so none may hold a tab, newline or backslash.
"""

import random
import unicodedata
from dataclasses import dataclass

from orders.countries import country_name


@dataclass(frozen=True)
class Address:
    """Where an order ships to, or is picked up."""

    line1: str
    line2: str
    city: str
    province: str
    country: str
    country_code: str
    postal_code: str


# Pickup orders are handed over (and taxed) here.
STORE_ADDRESS = Address(
    line1="120 NW 9th Ave",
    line2="",
    city="Portland",
    province="OR",
    country=country_name("US"),
    country_code="US",
    postal_code="97209",
)
# (city, province, country code, postal code prefix, phone prefix, share of customers)
# Denver, CO has no rate on purpose: US/CO is a state, not Colombia, and pays no tax here.
CITIES = [
    ("Portland", "OR", "US", "972", "+1 503-555-", 14),
    ("Eugene", "OR", "US", "974", "+1 541-555-", 4),
    ("Los Angeles", "CA", "US", "900", "+1 213-555-", 8),
    ("San Francisco", "CA", "US", "941", "+1 415-555-", 6),
    ("New York", "NY", "US", "100", "+1 212-555-", 7),
    ("Brooklyn", "NY", "US", "112", "+1 718-555-", 3),
    ("Austin", "TX", "US", "787", "+1 512-555-", 4),
    ("Houston", "TX", "US", "770", "+1 713-555-", 3),
    ("Seattle", "WA", "US", "981", "+1 206-555-", 6),
    ("Chicago", "IL", "US", "606", "+1 312-555-", 4),
    ("Miami", "FL", "US", "331", "+1 305-555-", 3),
    ("Denver", "CO", "US", "802", "+1 303-555-", 2),
    ("Toronto", "ON", "CA", "M5V ", "+1 416-555-", 3),
    ("Vancouver", "BC", "CA", "V6B ", "+1 604-555-", 2),
    ("Montréal", "QC", "CA", "H2X ", "+1 514-555-", 2),
    ("Ciudad de México", "CDMX", "MX", "066", "+52 55 5555 ", 3),
    ("Guadalajara", "JAL", "MX", "441", "+52 33 5555 ", 2),
    ("Bogotá", "DC", "CO", "1101", "+57 601 555 ", 3),
    ("Medellín", "ANT", "CO", "0500", "+57 604 555 ", 2),
    ("London", "England", "GB", "SW1A ", "+44 20 7946 ", 4),
    ("Manchester", "England", "GB", "M1 ", "+44 161 496 ", 2),
    ("Berlin", "BE", "DE", "101", "+49 30 555 ", 3),
    ("München", "BY", "DE", "803", "+49 89 555 ", 2),
]

FIRST_NAMES = [
    "Jane", "Marcus", "Priya", "Tom", "Aisha", "Diego", "Mei", "Olivia", "Liam", "Sofia",
    "Noah", "Emma", "Mateo", "Chloe", "Ethan", "Valentina", "Lucas", "Hannah", "Omar", "Grace",
    "Felix", "Isabel", "Jonas", "Camila", "Ravi", "Nora", "Daniel", "Lea", "Hugo", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Cooper", "Nguyen", "Patel", "Garcia", "Smith", "Müller", "Rossi", "Kim", "Johnson",
    "Martínez", "Brown", "Schneider", "López", "Williams", "Chen", "Fischer", "Hernández",
    "Taylor", "Ramírez", "Anderson", "Okafor", "Silva", "Wright", "Becker", "Torres",
]  # fmt: skip
STREETS = [
    "Maple St", "Oak Ave", "Cedar Ln", "Elm St", "Pine Rd", "Hawthorne Blvd", "Alberta St",
    "Division St", "Broadway", "Main St", "Lake Dr", "River Rd", "Park Ave", "High St",
]  # fmt: skip
# Reserved example domains: a customer-facing note mails the customer, and demo data must
# never reach a real mailbox.
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]


@dataclass(frozen=True)
class Person:
    """A customer, or a guest who checks out without an account."""

    name: str
    email: str
    phone: str
    address: Address


def random_people(*, rng: random.Random, count: int, email_tag: str = "") -> list[Person]:
    """`count` people with distinct lower-cased emails, each living in one of CITIES."""
    city_weights = [city[-1] for city in CITIES]
    people, emails = [], set()
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Addresses are ASCII (Müller → muller): Django's EmailValidator rejects the rest.
        local = unicodedata.normalize("NFKD", f"{first}.{last}{email_tag}".lower())
        local = local.encode("ascii", "ignore").decode()
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in emails:
            email = f"{local}{rng.randint(2, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        emails.add(email)
        (city, province, country_code, postal, phone, _), *_ = rng.choices(
            CITIES, weights=city_weights
        )
        address = Address(
            line1=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
            line2="" if rng.random() < 0.8 else f"Apt {rng.randint(1, 40)}",
            city=city,
            province=province,
            country=country_name(country_code),
            country_code=country_code,
            # Enough of each country's format to look right in a list.
            postal_code=f"{postal}{rng.randint(0, 99):02d}" if postal.isdigit() else f"{postal}1AB",
        )
        phone = f"{phone}{rng.randint(100, 199):04d}"
        people.append(Person(name=f"{first} {last}", email=email, phone=phone, address=address))
    return people
