"""Regular expressions the document states and the parsers honour alike.

JSON Schema patterns have no flags, so case-insensitivity is spelled out per letter.
"""

import re
from collections.abc import Iterable

# Python's str.strip() (DRF trims text fields) takes \x1c-\x1f for spaces too, which the
# Unicode White_Space of other regex engines (schemathesis's, a client's) does not.
SPACE = r"\s\u001c-\u001f"
# Contains something besides spaces: "   " is blank once trimmed.
NOT_BLANK = rf"[^{SPACE}]"
# Any run of such spaces (what strip() removes around a value or a list item).
SPACES = rf"[{SPACE}]*"


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
    separators = rf"[{SPACE},]*"
    return rf"^{separators}{item}(?:{SPACES},{separators}{item})*{separators}$"


def one_of_pattern(words: Iterable[str]) -> str:
    """One of `words`, any case, with spaces around it (the parsers strip and lower)."""
    return f"^{SPACES}{choice_pattern(words)}{SPACES}$"
