"""Every API response the suite provokes must be one the published document describes.

A pytest plugin (loaded from pyproject's addopts): each response of an
`APIClient` request to a documented operation is checked against
/v1/openapi.json — its status must be documented for that operation, and its
JSON body must validate against that status's schema. A test whose responses
break the document fails, naming the operation, the status and the first
schema error. So the suite's ~1,300 tests double as a conformance suite: a
field that comes back null but is declared non-nullable, an error whose
`details` is not the documented list, or a status nobody documented, fails CI
without any test asking for it.

Responses the document does not describe on purpose are skipped: paths or
methods it has no operation for (the 404 and 405 envelopes of routes that do
not exist), 5xx (a server error is never part of the contract), and 304.
"""

import json
import re
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

_SKIPPED_STATUSES = {304}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema 2020-12: `nullable: true` becomes a null branch."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def _registry() -> Registry:
    components = _to_json_schema(_document().get("components", {}))
    root = Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": components}
    )
    return Registry().with_resource("urn:ordo:openapi", root)


@cache
def _routes() -> list[tuple[re.Pattern, str]]:
    routes = []
    for template in _document()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        routes.append((re.compile(f"^{pattern}/?$"), template))
    # Literal paths before templated ones: /orders/count is not /orders/{order_id}.
    routes.sort(key=lambda route: route[1].count("{"))
    return routes


def _operation(path: str, method: str) -> tuple[str, dict] | None:
    if path.startswith("/api/"):
        path = "/v1/" + path.removeprefix("/api/")
    for pattern, template in _routes():
        if pattern.match(path):
            operation = _document()["paths"][template].get(method.lower())
            return (template, operation) if operation else None
    return None


def _refs_resolved(schema: dict) -> dict:
    """`#/components/…` refs of a response schema, pointed at the registry's root."""
    text = json.dumps(_to_json_schema(schema))
    text = text.replace('"#/components/', '"urn:ordo:openapi#/components/')
    return json.loads(text)


def violation(method: str, path: str, status: int, body: bytes) -> str | None:
    """Why this response breaks the document, or None when it conforms (or is not covered)."""
    if status >= 500 or status in _SKIPPED_STATUSES:
        return None
    found = _operation(path, method)
    if found is None:
        return None
    template, operation = found
    label = f"{method.upper()} {template} → {status}"
    described = operation["responses"].get(str(status))
    if described is None:
        return f"{label}: status not documented (documented: {sorted(operation['responses'])})"
    schema = described.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None if not body else f"{label}: a body where the document promises none"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{label}: body is not JSON"
    validator = Draft202012Validator(_refs_resolved(schema), registry=_registry())
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: e.path)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{label}: at {where}: {error.message[:300]}"


@pytest.fixture(autouse=True)
def responses_conform_to_the_document(request, monkeypatch):
    if request.node.get_closest_marker("nonconforming_responses"):
        yield
        return
    from rest_framework.test import APIClient

    violations: list[str] = []
    original = APIClient.request

    def checked_request(self, **kwargs):
        response = original(self, **kwargs)
        path, method = kwargs.get("PATH_INFO", ""), kwargs.get("REQUEST_METHOD", "GET")
        if path.startswith(("/v1/", "/api/")) and not path.startswith("/v1/openapi"):
            body = b"" if response.streaming else response.content
            if response.get("Content-Encoding") == "gzip":
                import gzip

                body = gzip.decompress(body)
            problem = violation(method, path, response.status_code, body)
            if problem:
                violations.append(problem)
        return response

    monkeypatch.setattr(APIClient, "request", checked_request)
    yield
    if violations:
        pytest.fail(
            "Responses that /v1/openapi.json does not describe:\n  "
            + "\n  ".join(dict.fromkeys(violations)),
            pytrace=False,
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "nonconforming_responses: the test provokes responses outside the contract on purpose "
        "(say why in the test)",
    )
