"""Rendered page fragments kept in the cache, dropped by the writes they depend on.

An advocate's pages (the hub, the challenges, the catalog, the referral tracker, the
leaderboards) cost tens of milliseconds of queries and template nodes to render, and
what they show changes far less often than it is read. A page renders its own part
through ``fragment()``: the HTML is kept under a key made of

- the fragment's name and the request's path with its query (a filter, a page number);
- the reader's language and time zone;
- the **versions** it depends on: the advocate's own (``advocate_scope(pk)``: their
  points, submissions, redemptions, referrals, asks, profile...) and program-wide
  scopes (``Scope``: the challenges, the catalog, the points table...), plus the epoch
  every fragment shares;
- the clock, rounded down to ``seconds`` (default a minute): what a fragment shows of
  time (a challenge that opens at ten, "2 minutes ago") is at most that far behind.

A version is a random value under its own key. The services that change what a scope
covers call ``advocates_changed(ids)`` or ``scopes_changed(scope...)`` (or the models'
signals do it for them, ``track()``): the version keys are deleted at once and again
after the transaction commits, the next read starts new versions, and every fragment
made under the old ones can never be read again. So a fragment is never stale after a
write it depends on, only (by ``seconds`` at most) after the clock.

The console's pages (managers' and reps' lists, issue 20) depend on program-wide scopes
of their own (``Scope.PEOPLE``, ``REVIEW``, ``FULFILMENT``, ``REFERENCES``,
``REFERRALS``); a list scoped to its reader puts the reader in ``vary``. ``value()``
keeps a JSON answer's data as ``fragment()`` keeps HTML; ``kept()`` keeps a value that
depends on the scopes' data alone (a long list's count) across minutes.

Reading costs two cache round trips (the versions, then the fragment). A fragment
never holds the reader's CSRF token: it is rendered with a placeholder, replaced on
the way out. While Redis is unreachable fragments are rendered and not kept (a
process's own memory would miss other processes' writes), and when Redis answers again
the epoch changes (core.cache): a version deleted during the outage may not have been.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from core.cache import FRAGMENTS_EPOCH_KEY, ResilientRedisCache

# Fragments live this long at most (each also drops off when its minute is over).
FRAGMENT_TIMEOUT = 600
# Version keys outlive the fragments made under them; one that expires (or is evicted)
# starts a new version, which only makes the fragments under the old one unreadable.
VERSION_TIMEOUT = 86_400
# A fragment is rendered with this in place of the CSRF token (replaced on the way out).
CSRF_PLACEHOLDER = "vouch-csrf-placeholder-7f3a9c"
# Bumping many advocates: keys deleted per cache call.
BATCH = 1000

T = TypeVar("T")


class Scope(StrEnum):
    """Program-wide data advocates' pages show, each with its own version."""

    # Challenges, levels and badges: what is open, to whom, for how many points.
    CHALLENGES = "challenges"
    # The reward catalog: rewards, their prices, stock and visibility.
    REWARDS = "rewards"
    # Anyone's points (the leaderboards): bumped by every ledger write.
    POINTS = "points"
    # Campaigns and referral drives, reference drives.
    CAMPAIGNS = "campaigns"
    # Discussions and groups an advocate browses.
    COMMUNITY = "community"
    # The console's lists (managers' and reps' pages, program-wide; a rep's own rows are
    # told apart by ``vary``). Advocates as staff see them: names, e-mail addresses,
    # companies, titles, statuses, owners, who joined; and the reps.
    PEOPLE = "people"
    # Challenge submissions: the review queue, the counts waiting.
    REVIEW = "review"
    # Redemptions, their provider orders and the providers' balances.
    FULFILMENT = "fulfilment"
    # Reference requests, their asks and calls.
    REFERENCES = "references"
    # Referrals: the reps' pipelines.
    REFERRALS = "referrals"


def now() -> datetime:
    """The clock the keys round (a test holds it mid-minute)."""
    return timezone.now()


def _scope_key(scope: str) -> str:
    return f"fragments:scope:{scope}:v"


def advocate_scope(advocate_id: int) -> str:
    """The scope of one advocate's own data (pass it in ``fragment(scopes=...)``)."""
    return f"advocate:{int(advocate_id)}"


def _versions(scopes: Iterable[str]) -> list[str]:
    keys = [FRAGMENTS_EPOCH_KEY, *(_scope_key(scope) for scope in scopes)]
    found = cache.get_many(keys)
    missing = {key: uuid.uuid4().hex for key in keys if key not in found}
    if missing:
        # add() is atomic per key: a racing process's new version wins, read it back.
        for key, value in missing.items():
            cache.add(key, value, timeout=None if key == FRAGMENTS_EPOCH_KEY else VERSION_TIMEOUT)
        found |= cache.get_many(list(missing))
    return [str(found.get(key, "")) for key in keys]


def fragment(
    request: HttpRequest,
    name: str,
    render: Callable[[dict[str, Any]], str],
    *,
    scopes: Iterable[str],
    seconds: int = 60,
    vary: str = "",
) -> SafeString:
    """The HTML ``render(extra_context)`` makes, from the cache when it was made under
    the current versions of ``scopes`` in this minute (``seconds``).

    ``render`` must put ``extra_context`` into its template's context (it holds the
    CSRF placeholder). ``vary`` adds anything else the HTML depends on that the path,
    the language and the time zone do not say.
    """
    if ResilientRedisCache.redis_down():
        return mark_safe(_with_token(request, render({"csrf_token": CSRF_PLACEHOLDER})))
    key = _key("fragments:html:", [name, vary, *_request_parts(request)], scopes, seconds)
    html = cache.get(key)
    if html is None:
        html = str(render({"csrf_token": CSRF_PLACEHOLDER}))
        cache.set(key, html, timeout=min(FRAGMENT_TIMEOUT, seconds * 2))
    return mark_safe(_with_token(request, html))


def value(
    request: HttpRequest,
    name: str,
    compute: Callable[[], T],
    *,
    scopes: Iterable[str],
    seconds: int = 60,
    vary: str = "",
) -> T:
    """``compute()``, kept as ``fragment`` keeps HTML (same key, same versions): for what
    a page serves that is not HTML, the data of a JSON answer. It must pickle, and must
    not be changed by the caller (the next read is the cached copy)."""
    parts = _request_parts(request)
    return _kept("fragments:value:", [name, vary, *parts], compute, scopes, seconds)


def kept(
    name: str,
    compute: Callable[[], T],
    *,
    scopes: Iterable[str],
    seconds: int = 300,
    vary: str = "",
) -> T:
    """``compute()`` kept under the versions of ``scopes`` for ``seconds`` at most, for
    a value that depends on their data alone, not on the request, the language or the
    clock: a count a page shows (core.pagination.KeptCountPaginator). Counted again after
    a write to them; ``seconds`` bounds a write made behind the services' back."""
    return _kept("fragments:kept:", [name, vary], compute, scopes, seconds)


_MISSING = object()


def _kept(
    prefix: str,
    parts: list[str],
    compute: Callable[[], T],
    scopes: Iterable[str],
    seconds: int,
) -> T:
    if ResilientRedisCache.redis_down():
        return compute()
    key = _key(prefix, parts, scopes, seconds)
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found, timeout=min(FRAGMENT_TIMEOUT, seconds * 2))
    return cast("T", found)


def _request_parts(request: HttpRequest) -> list[str]:
    return [
        request.get_full_path(),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
    ]


def _key(prefix: str, parts: list[str], scopes: Iterable[str], seconds: int) -> str:
    scopes = list(scopes)
    versions = _versions(scopes)
    moment = int(now().timestamp()) // seconds
    parts = [*parts, str(moment), *scopes, *versions]
    return prefix + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _with_token(request: HttpRequest, html: str) -> str:
    if CSRF_PLACEHOLDER not in html:
        return html
    return html.replace(CSRF_PLACEHOLDER, get_token(request))


# --- Dropping versions --------------------------------------------------------------------


def _delete_after_commit(keys: list[str]) -> None:
    """Delete now, and again once the transaction commits: a page read in between
    starts a new version from the snapshot without the write."""

    def delete() -> None:
        for start in range(0, len(keys), BATCH):
            cache.delete_many(keys[start : start + BATCH])

    delete()
    transaction.on_commit(delete)


def advocates_changed(advocate_ids: Iterable[int | None]) -> None:
    """Every fragment of these advocates' own data is out of date once this commits."""
    keys = sorted({_scope_key(advocate_scope(pk)) for pk in advocate_ids if pk is not None})
    if keys:
        _delete_after_commit(keys)


def scopes_changed(*scopes: Scope) -> None:
    """Every fragment depending on these program-wide scopes is out of date once this
    commits."""
    _delete_after_commit([_scope_key(scope) for scope in scopes])


def reset() -> None:
    """Every cached fragment is out of date once this commits (a rare, program-wide
    change: a level, a badge, a company's name)."""
    _delete_after_commit([FRAGMENTS_EPOCH_KEY])


def track(
    model: type[Model],
    *,
    advocate: Callable[[Any], int | None] | None = None,
    scopes: Iterable[Scope] = (),
    everything: bool = False,
    ignore_fields: frozenset[str] = frozenset(),
) -> None:
    """Drop versions whenever a row of ``model`` is saved or deleted through the ORM:
    the row's advocate's (``advocate(row)`` gives its id), ``scopes``, or with
    ``everything`` every fragment. A save of ``ignore_fields`` only (``last_login``)
    drops nothing.

    Called from the app's ``AppConfig.ready()``. Bulk writes (``bulk_create``,
    ``QuerySet.update``/``delete``) send no signals: their services call
    ``advocates_changed``/``scopes_changed`` themselves.
    """
    scopes = tuple(scopes)

    def changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):
            return  # fixtures: nothing was cached from them yet
        fields = kwargs.get("update_fields")
        if fields and ignore_fields and set(fields) <= ignore_fields:
            return
        if everything:
            reset()
            return
        if advocate is not None:
            advocates_changed([advocate(instance)])
        if scopes:
            scopes_changed(*scopes)

    # One receiver per registration: an app may track a model another app tracks for
    # other scopes (the console's scopes beside an advocate's).
    uid = f"fragments:{model._meta.label}:{advocate is not None}:{everything}:{','.join(scopes)}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)


def track_advocates_m2m(through: type[Model], advocate_model: type[Model]) -> None:
    """Drop the advocates' versions when a many-to-many of theirs (their tags, their
    products) changes, from either side."""

    def changed(
        sender: type[Model], instance: Any, action: str, pk_set: Any, **kwargs: Any
    ) -> None:
        if not action.startswith("post_"):
            return
        if isinstance(instance, advocate_model):
            advocates_changed([instance.pk])
        elif pk_set:
            advocates_changed(pk_set)
        else:
            reset()  # a clear() from the other side: whose, unknown

    m2m_changed.connect(
        changed, sender=through, weak=False, dispatch_uid=f"fragments:{through._meta.label}"
    )


def track_m2m(through: type[Model], *, scopes: Iterable[Scope]) -> None:
    """Drop ``scopes`` when a many-to-many between program-wide rows changes (the
    requests a reference drive offers)."""
    scopes = tuple(scopes)

    def changed(sender: type[Model], action: str, **kwargs: Any) -> None:
        if action.startswith("post_"):
            scopes_changed(*scopes)

    m2m_changed.connect(
        changed, sender=through, weak=False, dispatch_uid=f"fragments:{through._meta.label}"
    )
