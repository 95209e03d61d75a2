"""The published document names exactly the query parameters each endpoint accepts: a filter
added to the filter set, or a parameter the parsing learns, cannot go undocumented."""

import pytest

from orders.api.events import EVENT_LIST_PARAMETERS
from orders.api.params import AUTH_PARAMETERS, COUNT_PARAMETERS, DETAIL_PARAMETERS, LIST_PARAMETERS
from orders.filters import FILTER_PARAMETERS, OrderFilterSet
from webhooks.api.views import DELIVERY_LIST_PARAMETERS, ENDPOINT_LIST_PARAMETERS


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/v1/openapi.json").json()


def documented_query_parameters(document, path: str, method: str) -> set[str]:
    operation = document["paths"][path][method]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


# The key travels in the api_key query parameter too, but the document says so as a
# security scheme, not as a parameter of each operation.
@pytest.mark.parametrize(
    ("path", "method", "accepted"),
    [
        ("/v1/orders", "get", LIST_PARAMETERS),
        ("/v1/stores/{store_id}/orders", "get", LIST_PARAMETERS),
        ("/v1/orders/count", "get", COUNT_PARAMETERS),
        ("/v1/orders/{order_id}", "get", DETAIL_PARAMETERS),
        ("/v1/events", "get", EVENT_LIST_PARAMETERS),
        ("/v1/events/{event_id}", "get", AUTH_PARAMETERS),
        ("/v1/webhook-endpoints", "get", ENDPOINT_LIST_PARAMETERS),
        ("/v1/stores/{store_id}/webhook-endpoints", "get", ENDPOINT_LIST_PARAMETERS),
        ("/v1/webhook-endpoints/{endpoint_id}", "get", AUTH_PARAMETERS),
        ("/v1/webhook-endpoints/{endpoint_id}/deliveries", "get", DELIVERY_LIST_PARAMETERS),
        ("/v1/webhook-deliveries/{delivery_id}", "get", AUTH_PARAMETERS),
    ],
)
def test_each_list_parameter_the_api_accepts_is_documented_and_no_other(
    document, path, method, accepted
):
    assert documented_query_parameters(document, path, method) == accepted - AUTH_PARAMETERS


def test_every_filter_of_the_filter_set_is_described_for_people(document):
    documented = {p["name"]: p for p in document["paths"]["/v1/orders/count"]["get"]["parameters"]}

    assert set(documented) == set(FILTER_PARAMETERS)
    assert all(documented[name]["description"] for name in OrderFilterSet.base_filters)


def test_a_numeric_filter_is_documented_as_a_number_and_a_choice_with_its_choices(document):
    documented = {
        p["name"]: p["schema"] for p in document["paths"]["/v1/orders/count"]["get"]["parameters"]
    }

    assert documented["total[gte]"]["type"] == "number"
    assert sorted(documented["filter_on"]["enum"]) == ["created_at", "placed_at", "updated_at"]
