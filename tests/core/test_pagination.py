"""core.pagination.KeptCountPaginator: the count is kept under its scopes' versions,
counted again after a write to them, and apart for each list and filter."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core import fragments
from core.pagination import KeptCountPaginator

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(second=30, microsecond=0)


@pytest.fixture(autouse=True)
def _frozen(monkeypatch) -> None:
    monkeypatch.setattr(fragments, "now", lambda: NOW)


class Counted(list):
    """A list that says how many times it was counted."""

    counts = 0

    def count(self, *args: object) -> int:  # Paginator counts through .count()
        if args:
            return super().count(*args)
        Counted.counts += 1
        return len(self)


def paginator(rows: list, vary: str = "") -> KeptCountPaginator:
    return KeptCountPaginator(
        Counted(rows), 10, name="test", scopes=(fragments.Scope.PEOPLE,), vary=vary
    )


def test_the_count_is_kept_until_its_scope_changes() -> None:
    Counted.counts = 0
    assert paginator(list(range(25))).count == 25
    assert paginator(list(range(26))).count == 25  # kept: no write said otherwise
    assert Counted.counts == 1
    fragments.scopes_changed(fragments.Scope.PEOPLE)
    assert paginator(list(range(26))).count == 26
    assert Counted.counts == 2
    fragments.scopes_changed(fragments.Scope.POINTS)  # another scope: kept
    assert paginator(list(range(27))).count == 26


def test_each_filter_has_its_own_count() -> None:
    assert paginator(list(range(25)), vary="status=active").count == 25
    assert paginator(list(range(3)), vary="status=left").count == 3
    assert paginator(list(range(3)), vary="status=left").num_pages == 1
