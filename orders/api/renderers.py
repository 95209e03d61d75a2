import json
import re
from decimal import Decimal
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Money is exact and shown with its two decimals (53.20, not 53.2): json cannot print a
# Decimal as a number, so the encoder emits it as a marked string and the marker is
# unwrapped afterwards. A NUL can never come from data (PostgreSQL text rejects it, and
# json escapes any other as \u0000 inside a longer string), so the pattern cannot match
# a customer's text.
_MARK = "\x00"
_MARKED_NUMBER = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)"')


class _DecimalAsNumberEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return _MARK + format(obj, "f")
        return super().default(obj)


def dumps(data: Any) -> str:
    text = json.dumps(data, cls=_DecimalAsNumberEncoder, ensure_ascii=False, separators=(",", ":"))
    return _MARKED_NUMBER.sub(r"\1", text)


class OrdoJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return dumps(data).encode()


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Every API answer is JSON: an `Accept` the API cannot honour (a browser's `text/html`,
    a client's `application/xml`) still gets JSON rather than a 406 that helps nobody."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
