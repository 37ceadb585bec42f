"""Bulk writes of generated rows: COPY on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name}"
    assert field.column, f"{model.__name__}.{name}"
    return field.column


class Writer:
    """Writes rows (tuples in ``fields`` order, primary key included) of one model."""

    def __init__(self, stdout: Any) -> None:
        self.stdout = stdout
        self.counts: dict[str, int] = {}
        self.postgres = connection.vendor == "postgresql"
        self.written: list[type[models.Model]] = []

    def write(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        rows: Iterable[Sequence[Any]],
        batch: int = 5000,
    ) -> int:
        count = 0
        started = time.monotonic()
        if self.postgres:
            # COPY leaves out columns to NULL (Django sets no database defaults): add
            # every other non-null column with its model default.
            given = set(fields)
            extra = [
                f
                for f in model._meta.concrete_fields
                if f.attname not in given and f.name not in given and not f.null
            ]
            if extra:
                # auto_now columns (updated_at) have no default: the time of writing.
                now = timezone.now()
                defaults = tuple(
                    now if getattr(f, "auto_now", False) else f.get_default() for f in extra
                )
                fields = [*fields, *(f.attname for f in extra)]
                rows = (tuple(row) + defaults for row in rows)
            table = model._meta.db_table
            columns = [_column(model, name) for name in fields]
            json_at = [
                i
                for i, name in enumerate(fields)
                if isinstance(model._meta.get_field(name), models.JSONField)
            ]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's own cursor: COPY
                with raw.copy(
                    f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
                        count += 1
        else:
            chunk: list[models.Model] = []
            for row in rows:
                chunk.append(model(**dict(zip(fields, row, strict=True))))
                count += 1
                if len(chunk) >= batch:
                    model._default_manager.bulk_create(chunk)
                    chunk = []
            if chunk:
                model._default_manager.bulk_create(chunk)
        label = model._meta.label
        self.stdout.write(f"  wrote {count:>9,} {label} ({time.monotonic() - started:.1f} s)")
        self.counts[label] = self.counts.get(label, 0) + count
        if model not in self.written:
            self.written.append(model)
        return count

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), self.written)
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
