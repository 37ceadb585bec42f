"""A paginator for long lists whose count is kept between the writes it depends on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from core import fragments

# How long a count is kept at most: a write through the services drops it at once (its
# scopes' versions); this bounds one made behind their back (the shell, SQL).
COUNT_SECONDS = 300


class KeptCountPaginator(Paginator):
    """A paginator whose COUNT is kept in the cache under the versions of ``scopes``
    (``core.fragments.kept``), for the lists where counting reads a hundred thousand
    rows (every advocate, a rep's referrals): the count is read again after a write to
    those scopes, not on every page, nor whenever the page's cached body is rendered
    again because something else it shows changed (an advocate's points).

    ``name`` and ``vary`` say which count: the list and its filters (whatever changes
    the rows counted, the reader's id for a list scoped to them).
    """

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *,
        name: str,
        scopes: Iterable[str],
        vary: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.name = name
        self.scopes = tuple(scopes)
        self.vary = vary

    @cached_property
    def count(self) -> int:
        return fragments.kept(
            self.name,
            lambda: super(KeptCountPaginator, self).count,
            scopes=self.scopes,
            seconds=COUNT_SECONDS,
            vary=self.vary,
        )
