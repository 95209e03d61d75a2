import io

import pytest
from django.core.management import call_command

from orders.management.commands.benchmark_lists import ADMIN_CASES, API_CASES
from tests.factories import make_order


@pytest.mark.django_db
def test_benchmark_lists_times_every_case_on_the_largest_store(store, other_store):
    for _ in range(3):
        make_order(store=store)
    make_order(store=other_store)
    out = io.StringIO()

    call_command("benchmark_lists", "--runs", "1", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{store.name} ({store.public_id}): 3 orders")
    # Every case, and the order page.
    assert sum("median" in line for line in lines) == len(API_CASES) + len(ADMIN_CASES) + 1
    assert "admin CSV export" in lines[-1]
    assert " 3 rows in " in lines[-1]
