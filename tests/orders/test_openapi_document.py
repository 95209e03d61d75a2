"""The published document (/v1/openapi.json) is one clients can be generated from: it renders
without a drf-spectacular warning, names each operation once and readably, documents every
error status with the error model, and its parameter schemas admit exactly what the parsers
accept."""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from orders.filters import OrderFilterSet
from orders.models import OrderStatus

pytestmark = pytest.mark.django_db

READ_ERRORS = {"400", "401", "403", "404", "429"}
WRITE_ERRORS = READ_ERRORS | {"409", "411", "412", "413", "415", "422"}


@pytest.fixture(scope="module")
def document(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_document_renders_without_a_single_warning_or_error():
    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)

    assert (GENERATOR_STATS._warn_cache, GENERATOR_STATS._error_cache) == ({}, {})


def test_each_operation_has_one_readable_operation_id(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]

    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:_[a-z]+)*", operation_id) for operation_id in ids), ids


def test_both_route_forms_are_documented_and_the_alias_route_only_once(document):
    paths = set(document["paths"])

    assert {"/v1/orders", "/v1/stores/{store_id}/orders", "/v1/store"} <= paths
    assert "/v1/orders/{order_id}/refund" in paths
    assert "/v1/stores/{store_id}/orders/{order_id}/refund" not in paths
    assert not [path for path in paths if path.endswith("/") or path.startswith("/api/")]


def test_the_refund_alias_is_served_beside_refunds(client, store):
    from tests.factories import make_order

    order = make_order(store=store, payment_status="pending")

    for path in (f"/v1/orders/{order.public_id}/refund", f"/v1/orders/{order.public_id}/refunds"):
        response = client.post(path, {}, format="json")
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "ORDER_NOT_REFUNDABLE"


def test_every_operation_documents_every_error_it_can_answer_with_the_error_model(document):
    for path, method, operation in operations(document):
        expected = WRITE_ERRORS if method in {"post", "patch"} else READ_ERRORS
        documented = set(operation["responses"])
        assert expected <= documented, (method, path, expected - documented)
        for status in expected:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)


def test_the_error_model_has_a_details_list_or_the_feature_object_and_a_context(document):
    error = document["components"]["schemas"]["Error"]

    assert set(error["required"]) >= {"code", "message", "details", "context", "request_id"}
    shapes = error["properties"]["details"]["oneOf"]
    assert [shape["type"] for shape in shapes] == ["array", "object"]
    assert shapes[0]["items"]["required"] == ["field", "message"]
    assert shapes[1]["required"] == ["feature"]
    assert error["properties"]["context"]["type"] == "object"


def test_no_paging_parameter_declares_a_default_a_generated_client_would_send(document):
    parameters = document["paths"]["/v1/orders"]["get"]["parameters"]

    assert [p["name"] for p in parameters if "default" in p["schema"]] == []


def test_fields_that_can_be_null_are_nullable(document):
    order = document["components"]["schemas"]["OrderWithRelations"]["properties"]
    line = document["components"]["schemas"]["LineItem"]["properties"]
    pagination = document["components"]["schemas"]["Pagination"]["properties"]

    for name in ("customer_id", "confirmed_at", "shipped_at", "cancelled_at", "voided_at"):
        assert order[name].get("nullable") is True, name
    assert order["placed_at"].get("nullable") is not True
    assert line["variant_id"]["nullable"] is True
    assert pagination["total"]["nullable"] is True
    assert pagination["next_cursor"]["nullable"] is True


def test_ids_are_documented_with_their_own_prefix(document):
    schemas = document["components"]["schemas"]
    order = schemas["OrderWithRelations"]["properties"]

    assert order["id"]["example"].startswith("ord_")
    assert order["store_id"]["example"].startswith("str_")
    assert order["customer_id"]["example"].startswith("cust_")
    assert schemas["LineItem"]["properties"]["variant_id"]["example"].startswith("var_")


def _parameter_schema(document, name: str) -> dict:
    parameters = document["paths"]["/v1/orders"]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name)


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        (
            "status",
            ["pending", "PENDING", " shipped , in_progress", "canceled,"],
            ["", "lost", ","],
        ),
        ("payment_status", ["paid", "all", "Paid,refunded"], ["", "unpaid"]),
        ("order_number", ["1042", "#1042,1043"], ["", "10x", "#"]),
        ("sort", ["-total", "customer_name,-placed_at", " + total"], ["", "-", "price"]),
        ("order", ["asc", " DESC "], ["", "up"]),
        ("include", ["", "items", "ITEMS,shipments,", " , "], ["lines"]),
        ("city", ["Portland", " São Paulo "], ["", "   ", "a\x00b"]),
        ("country_code", ["us", " CO "], ["", "USA", "U"]),
        ("cursor", ["eyJzIjoi"], ["", "a b", "a=b"]),
    ],
)
def test_a_parameter_pattern_admits_what_the_list_accepts_and_refuses_the_rest(
    document, client, name, accepted, refused
):
    """Both directions: what the pattern admits the list answers 200 to (the cursor aside,
    which must also be one Ordo issued), what it refuses the list refuses with a 400."""
    pattern = re.compile(_parameter_schema(document, name)["pattern"])

    for value in accepted:
        assert pattern.search(value), (name, value)
        if name != "cursor":
            assert client.get("/v1/orders", {name: value}).status_code == 200, (name, value)
    for value in refused:
        assert not pattern.search(value), (name, value)
        assert client.get("/v1/orders", {name: value}).status_code == 400, (name, value)


def test_every_list_filter_has_a_schema_with_a_type(document):
    for name in OrderFilterSet.base_filters:
        schema = _parameter_schema(document, name)
        assert "type" in schema or "anyOf" in schema, name


def test_statuses_are_documented_as_enums(document):
    schemas = document["components"]["schemas"]

    assert schemas["OrderStatusEnum"]["enum"] == list(OrderStatus.values)
    assert schemas["OrderWithRelations"]["properties"]["status"] == {
        "$ref": "#/components/schemas/OrderStatusEnum"
    }
