"""Trigram indexes for the order search (`search` / `q`) on PostgreSQL.

Search is a case-insensitive substring match (Django's icontains, which
PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%term%')`); a GIN trigram
index on the same UPPER(...) expression lets it use an index instead of
scanning every order of the store. SQLite (development) skips this.
"""

from django.db import migrations

SEARCHED_COLUMNS = ["customer_name", "customer_email", "customer_phone", "customer_code", "po_number"]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS order_search_{column}_trgm "
            f"ON orders_order USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS order_search_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
