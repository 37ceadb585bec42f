"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models


class IntegerListField(models.Field):
    """A list of integers in one column: a native ``integer[]`` on PostgreSQL, where SQL
    can search it (``width_bucket`` over a sorted one), and space-separated text on
    other databases, which only store it."""

    description = "A list of integers"

    def db_type(self, connection: Any) -> str:
        return "integer[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return [int(part) for part in value.split()]

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return [int(part) for part in str(value).split()]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        values = [int(part) for part in value]
        return values if connection.vendor == "postgresql" else " ".join(map(str, values))
