"""Loading generated rows into the seed's tables, inside the caller's transaction.

PostgreSQL: COPY from a writer thread, so generating (this process) and loading (the
server) use both cores at once, and for a large load without the tables' secondary indexes
and foreign keys, restored after. Other databases: the same COPY text parsed through the
model fields and bulk_created.
"""

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

from orders.demo.copy_text import NULL
from orders.demo.extensions import Table
from orders.demo.rows import RowBatch
from orders.models import Order

# From this many new orders on (when the order table holds fewer), PostgreSQL loads run
# without the order tables' foreign keys and secondary indexes and restore them after: one
# sorted build per index and one join per foreign key beat millions of single-row updates
# and checks. One million orders on two cores: 155 s with everything in place, 88 s without.
INDEX_REBUILD_MIN_ORDERS = 100_000


@contextmanager
def order_loader(
    *,
    new_orders: int,
    tables: Sequence[Table],
    rebuild_min_orders: int = INDEX_REBUILD_MIN_ORDERS,
) -> Iterator["CopyLoader | OrmLoader"]:
    """A loader for `tables` (orders.demo.rows.loaded_tables), inside the caller's
    transaction.

    PostgreSQL: COPY from a writer thread. A large load (`rebuild_min_orders` and more
    than the order table holds) first drops the tables' foreign keys and secondary
    indexes and restores them from their own definitions after: one sorted build per index
    and one join per foreign key instead of millions of single-row updates and checks. The
    restore runs in the same transaction, so a failure rolls the drop back too, and the
    re-added foreign keys validate every row. Elsewhere: bulk_create.
    """
    if connection.vendor != "postgresql":
        yield OrmLoader(tables)
        return
    names = [model._meta.db_table for model, _ in tables]
    with connection.cursor() as cursor:
        # Demo data may lose its last commit in a crash; not worth waiting for the fsync.
        cursor.execute("SET LOCAL synchronous_commit = off")
        restore = []
        if new_orders >= rebuild_min_orders and not _holds_at_least(cursor, new_orders):
            restore = _detach_indexes_and_foreign_keys(cursor, names)
    loader = CopyLoader(connection.connection, tables)
    try:
        yield loader
    finally:
        loader.close()
    with connection.cursor() as cursor:
        if restore:
            # Room to sort each index in memory (the default 64MB spills to disk).
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in restore:
            cursor.execute(statement)
        # Fresh statistics, so the first API queries after a big seed get good plans.
        cursor.execute(f"ANALYZE {', '.join(_quote(name) for name in names)}")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _holds_at_least(cursor, rows: int) -> bool:
    """Whether the order table already holds `rows` rows (counting no further)."""
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {_quote(Order._meta.db_table)} LIMIT %s) AS o",
        [rows],
    )
    return cursor.fetchone()[0] >= rows


def _detach_indexes_and_foreign_keys(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' foreign keys and the indexes that neither enforce uniqueness nor
    back a constraint; return the statements that recreate them exactly."""
    cursor.execute(
        """
        SELECT format('%%I.%%I', n.nspname, c.relname), i.indexdef
        FROM pg_index x
        JOIN pg_class c ON c.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_indexes i ON i.schemaname = n.nspname AND i.indexname = c.relname
        WHERE x.indrelid = ANY(%s::regclass[])
          AND NOT x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
        ORDER BY c.relname
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        """
        SELECT k.conrelid::regclass::text, format('%%I', k.conname), pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        WHERE k.conrelid = ANY(%s::regclass[]) AND k.contype = 'f'
        ORDER BY k.conname
        """,
        [tables],
    )
    foreign_keys = cursor.fetchall()
    for table, name, _ in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for table, name, definition in foreign_keys
    ]


class CopyLoader:
    """Streams batches into PostgreSQL with COPY on a writer thread, so the server parses
    and indexes one batch while this process generates the next.

    The thread uses the connection's psycopg connection; the caller must not use the
    connection until `flush()` or `close()` returns. A failure in the thread is raised
    from the next call.
    """

    def __init__(self, raw_connection, tables: Sequence[Table]) -> None:
        self._connection = raw_connection
        # Two batches in flight bound memory; more would not make the server faster.
        self._batches: queue.Queue[RowBatch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._statements = [
            f"COPY {_quote(model._meta.db_table)} "
            f"({', '.join(_quote(model._meta.get_field(c).column) for c in columns)})"
            " FROM STDIN"
            for model, columns in tables
        ]
        self._thread = threading.Thread(target=self._run, name="seed-demo-copy", daemon=True)
        self._thread.start()

    def write(self, rows: RowBatch) -> None:
        self._raise_if_failed()
        self._batches.put(rows)

    def flush(self) -> None:
        self._batches.join()
        self._raise_if_failed()

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        # Drains the queue even after a failure, so the main thread never blocks on it.
        cursor = None
        while (rows := self._batches.get()) is not None:
            try:
                if self._error is None:
                    cursor = cursor or self._connection.cursor()
                    for statement, lines in zip(self._statements, rows.lines(), strict=True):
                        if lines:
                            with cursor.copy(statement) as copy:
                                copy.write("".join(lines))
            except BaseException as error:  # raised in the main thread
                self._error = error
            finally:
                self._batches.task_done()
        self._batches.task_done()
        if cursor is not None:
            cursor.close()


class OrmLoader:
    """Parses the COPY text rows through the model fields and bulk_creates them."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self._tables = [
            (model, [model._meta.get_field(column) for column in columns])
            for model, columns in tables
        ]

    def write(self, rows: RowBatch) -> None:
        for (model, fields), lines in zip(self._tables, rows.lines(), strict=True):
            names = [f.attname for f in fields]
            objects = []
            for line in lines:
                values = line.rstrip("\n").split("\t")
                objects.append(
                    model(
                        **{
                            name: None if value == NULL else f.to_python(value)
                            for name, f, value in zip(names, fields, values, strict=True)
                        }
                    )
                )
            model.objects.bulk_create(objects)

    def flush(self) -> None:
        pass
