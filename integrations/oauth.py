"""OAuth ``state`` kept in the connecting manager's session: single use, 10 minutes.

A callback from another browser (login CSRF) or a replayed one finds no state. Each
integration keeps its states under its own ``SESSION_KEY``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

STATE_SECONDS = 600


class OAuthState:
    SESSION_KEY = "oauth_states"

    def __init__(self, session: Any) -> None:
        self.session = session

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        now = time.time()
        states = {
            key: expires
            for key, expires in self.session.get(self.SESSION_KEY, {}).items()
            if expires > now
        }
        states[state] = now + STATE_SECONDS
        self.session[self.SESSION_KEY] = states
        return state

    def consume(self, state: str) -> bool:
        states = dict(self.session.get(self.SESSION_KEY, {}))
        expires = states.pop(state, None) if state else None
        self.session[self.SESSION_KEY] = states
        return expires is not None and expires > time.time()
