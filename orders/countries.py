"""Country names for the ISO 3166-1 codes orders carry (`US` → "United States")."""

import pycountry


def country_name(code: str) -> str:
    """The common English name of the country with alpha-2 `code`; the code itself when
    it names no country (an order keeps what it was given rather than failing)."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
