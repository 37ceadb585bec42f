"""core.fragments: a cached fragment is served until a version it depends on changes,
never holds someone's CSRF token, and is not kept while Redis is unreachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone, translation

from core import cache as resilient
from core import fragments
from core.models import ProgramSettings

pytestmark = pytest.mark.django_db


NOW = timezone.now().replace(second=30, microsecond=0)


@pytest.fixture(autouse=True)
def _frozen(monkeypatch) -> None:
    # Mid-minute, always: two reads never straddle the minute the key holds.
    monkeypatch.setattr(fragments, "now", lambda: NOW)


@pytest.fixture
def request_(rf: RequestFactory):
    return rf.get("/hub/?page=2")


class Counter:
    """A render function that says how many times it ran."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, extra: dict) -> str:
        self.calls += 1
        return f"<p>render {self.calls} token={extra['csrf_token']}</p>"


def _read(request, render, scopes=(fragments.Scope.REWARDS,), **kwargs) -> str:
    return fragments.fragment(request, "test", render, scopes=scopes, **kwargs)


def test_a_second_read_is_served_from_the_cache(request_) -> None:
    render = Counter()
    _read(request_, render)
    assert "render 1" in _read(request_, render)
    assert render.calls == 1


def test_a_scope_change_renders_again(request_, django_capture_on_commit_callbacks) -> None:
    render = Counter()
    _read(request_, render)
    with django_capture_on_commit_callbacks(execute=True):
        fragments.scopes_changed(fragments.Scope.REWARDS)
    assert "render 2" in _read(request_, render)
    # Another scope's change leaves it alone.
    fragments.scopes_changed(fragments.Scope.POINTS)
    assert "render 2" in _read(request_, render)


def test_an_advocate_change_renders_only_that_advocates_fragments_again(request_) -> None:
    mine, theirs = Counter(), Counter()
    _read(request_, mine, scopes=[fragments.advocate_scope(1)])
    fragments.fragment(request_, "other", theirs, scopes=[fragments.advocate_scope(2)])
    fragments.advocates_changed([1])
    _read(request_, mine, scopes=[fragments.advocate_scope(1)])
    fragments.fragment(request_, "other", theirs, scopes=[fragments.advocate_scope(2)])
    assert (mine.calls, theirs.calls) == (2, 1)


def test_the_drop_happens_again_after_commit(request_, django_capture_on_commit_callbacks) -> None:
    """A page read between the write and its commit starts a new version from the old
    snapshot: the delete after commit makes that version unreadable too."""
    render = Counter()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fragments.advocates_changed([7])
        _read(request_, render, scopes=[fragments.advocate_scope(7)])  # before the commit
    for callback in callbacks:
        callback()
    _read(request_, render, scopes=[fragments.advocate_scope(7)])
    assert render.calls == 2


def test_the_key_holds_the_path_the_language_and_the_minute(rf, request_) -> None:
    render = Counter()
    _read(request_, render)
    _read(rf.get("/hub/?page=3"), render)
    with translation.override("de"):
        _read(request_, render)
    assert render.calls == 3
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fragments, "now", lambda: NOW + timedelta(seconds=60))
        _read(request_, render)
    assert render.calls == 4


def test_the_reader_gets_their_own_csrf_token_not_the_cached_one(rf) -> None:
    render = Counter()
    first, second = rf.get("/hub/"), rf.get("/hub/")
    html_first = str(_read(first, render))
    html_second = str(_read(second, render))
    assert render.calls == 1
    assert fragments.CSRF_PLACEHOLDER not in html_first + html_second
    token_first = html_first.split("token=")[1]
    token_second = html_second.split("token=")[1]
    assert token_first != token_second  # each request's own (masked) token


def test_new_program_settings_drop_every_fragment(request_, django_capture_on_commit_callbacks):
    render = Counter()
    _read(request_, render)
    with django_capture_on_commit_callbacks(execute=True):
        settings_row = ProgramSettings.load()
        settings_row.name = "Champions"
        settings_row.save()
    _read(request_, render)
    assert render.calls == 2


def test_nothing_is_kept_while_redis_is_down(request_, monkeypatch) -> None:
    render = Counter()
    monkeypatch.setattr(resilient._Outage, "down_until", float("inf"))
    _read(request_, render)
    _read(request_, render)
    assert render.calls == 2
    assert not any(key.startswith(":1:fragments:html:") for key in cache._cache)  # locmem's store


def test_redis_coming_back_starts_a_new_epoch(monkeypatch) -> None:
    """Versions dropped while Redis was unreachable may not have been: the recovery
    deletes the epoch every fragment's key holds."""
    deleted = []
    monkeypatch.setattr(resilient._Outage, "since", 1.0)
    monkeypatch.setattr(resilient._Outage, "down_until", 0.0)
    monkeypatch.setattr(
        resilient.RedisCache, "get", lambda self, key, default=None, version=None: 1
    )
    monkeypatch.setattr(
        resilient.RedisCache, "delete", lambda self, key, version=None: deleted.append(key)
    )
    backend = resilient.ResilientRedisCache("redis://127.0.0.1:1/0", {})
    backend.get("anything")
    assert deleted == [resilient.FRAGMENTS_EPOCH_KEY]
