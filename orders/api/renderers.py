import json
import re
from decimal import Decimal
from typing import Any

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Money is exact and shown with its two decimals (53.20, not 53.2). orjson prints what it
# knows in C and asks `_default` for the rest: a Decimal becomes a Fragment (its digits
# pasted into the output as a JSON number), and dates, times and anything else are
# printed as DRF's encoder prints them, so every body reads as it did with json.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_drf_default = JSONEncoder().default


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        # str() is twice as fast as format(obj, "f") and prints the same digits, except
        # in the scientific notation it picks for some exponents (1E+2; never for cents).
        text = str(obj)
        return orjson.Fragment(text if "E" not in text else format(obj, "f"))
    return _drf_default(obj)


def dumps_bytes(data: Any) -> bytes:
    """`data` as compact UTF-8 JSON, money as numbers with their decimals."""
    try:
        return orjson.dumps(data, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        # What json takes and orjson refuses (keys that are not strings, integers past 64
        # bits): such a rare body is printed the way it always was.
        return _json_dumps(data).encode()


def dumps(data: Any) -> str:
    return dumps_bytes(data).decode()


# The stdlib path cannot print a Decimal as a number: the encoder emits it as a marked
# string and the marker is unwrapped afterwards. A NUL can never come from data
# (PostgreSQL text rejects it, and json escapes any other as \u0000 inside a longer
# string), so the pattern cannot match a customer's text.
_MARK = "\x00"
_MARKED_NUMBER = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)"')


class _DecimalAsNumberEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return _MARK + format(obj, "f")
        return super().default(obj)


def _json_dumps(data: Any) -> str:
    text = json.dumps(data, cls=_DecimalAsNumberEncoder, ensure_ascii=False, separators=(",", ":"))
    return _MARKED_NUMBER.sub(r"\1", text)


class OrdoJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return dumps_bytes(data)


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Every API answer is JSON: an `Accept` the API cannot honour (a browser's `text/html`,
    a client's `application/xml`) still gets JSON rather than a 406 that helps nobody."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
