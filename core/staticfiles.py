"""The production static files storage (whitenoise's compressed manifest), with each
file's URL worked out once per process: the manifest is read when the process starts
and does not change while it runs, and every page's layout asks for the same half
dozen URLs (stylesheets, scripts, logo)."""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: Any, force: bool = False) -> str:
        if force:
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:  # the first time (a missing file raises and is not kept)
            url = self._urls[name] = super().url(name)
            return url
