"""Inserting many rows at once: ``bulk_insert``, ``bulk_create`` through COPY on PostgreSQL.

A bulk import writes tens of thousands of rows a minute. ``bulk_create`` builds one
multi-row INSERT per batch, and on PostgreSQL most of its time goes to Django preparing
every value of every row and psycopg quoting them into one long statement; COPY streams
the same values in PostgreSQL's own format. The primary keys are taken from the table's
sequence first (one query), so the objects come back with them set, as from
``bulk_create``. Constraints and foreign keys are checked as for an INSERT; no signal is
sent (as with ``bulk_create``). Elsewhere (SQLite) it is ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models

M = TypeVar("M", bound=models.Model)


def bulk_insert(model: type[M], objs: Sequence[M]) -> list[M]:
    """Insert ``objs`` (new instances of ``model``) and set their primary keys."""
    objs = list(objs)
    # The connection itself, not django.db.connection's proxy: values are prepared
    # hundreds of thousands of times, and each proxy lookup goes through a thread local.
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or not objs:
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    pk = meta.pk
    assert pk is not None  # a concrete model always has one
    fields = [field for field in meta.concrete_fields if field is not pk]
    prepare = [(field.pre_save, field.get_db_prep_save) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in [pk.column, *(f.column for f in fields)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        for obj, (pk_value,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, pk_value)
        raw = cursor.cursor  # psycopg's own cursor: COPY
        # Django's wrapper turns psycopg's errors into django.db's (IntegrityError...).
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for obj in objs:
                copy.write_row(
                    [
                        getattr(obj, pk.attname),
                        *(prep(pre(obj, True), connection) for pre, prep in prepare),
                    ]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
