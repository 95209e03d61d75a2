"""gunicorn's access log without API keys.

A key may arrive as `?api_key=wk_live_…` (seed 004's clients send it so); gunicorn's
request line and query string would write it verbatim into every access log line, where
anyone who reads logs could use it. Each `api_key` value (the name decoded as Django
decodes it, so `api%5Fkey` too) is logged as `[redacted]`, and so are the key headers
should a custom format name them.
"""

from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
_SECRET_HEADERS = ("{x-api-key}i", "{authorization}i", "{cookie}i")


def redact_query(query: str) -> str:
    """`query` with the value of every api_key parameter replaced by [redacted]."""
    if "=" not in query:
        return query
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).strip().lower() == "api_key":
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "&".join(parts)


def redact_target(target: str) -> str:
    """A request target (`/v1/orders?api_key=…`) with its api_key values redacted."""
    path, question, query = target.partition("?")
    return f"{path}?{redact_query(query)}" if question else target


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        method, _, rest = atoms["r"].partition(" ")
        target, _, protocol = rest.rpartition(" ")
        atoms["r"] = f"{method} {redact_target(target)} {protocol}"
        atoms["q"] = redact_query(atoms.get("q") or "")
        for name in _SECRET_HEADERS:
            if name in atoms:
                atoms[name] = REDACTED
        return atoms
