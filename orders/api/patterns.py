"""Regular expressions the document states and the parsers honour alike.

JSON Schema patterns have no flags, so case-insensitivity is spelled out per letter.
"""

import re
from collections.abc import Iterable

# Contains something besides spaces: DRF trims text fields, so "   " is blank.
NOT_BLANK = r"\S"


def any_case(word: str) -> str:
    """`word` as a regex matching it in any letter case ('[pP][aA][iI][dD]')."""
    return "".join(
        f"[{char.lower()}{char.upper()}]" if char.isalpha() else re.escape(char) for char in word
    )


def choice_pattern(words: Iterable[str]) -> str:
    """A group matching any of `words`, in any case."""
    return "(?:" + "|".join(any_case(word) for word in words) + ")"


def comma_list_pattern(item: str) -> str:
    """A comma list as orders.filters.ListField reads it: items with spaces around them,
    empty items skipped, at least one item."""
    return rf"^[\s,]*{item}(?:\s*,[\s,]*{item})*[\s,]*$"
