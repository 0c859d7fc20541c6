"""Slow down password guessing: after ``MAX_FAILURES`` failed sign-ins for one username within ``WINDOW``, that
username is refused for the rest of the window, on the login page and on ``POST /api/v1/auth/token`` alike.

Counts live in Django's cache (per process with the default local-memory cache; set ``ECMO_CACHE_URL`` to a
Redis URL so that several processes share them). A ward terminal's user who mistypes a few times is not locked
out; a script trying thousands of passwords is.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

MAX_FAILURES = 8
WINDOW_SECONDS = 15 * 60


def _key(username: str) -> str:
    return "ecmo:login-failures:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def is_locked(username: str) -> bool:
    return int(cache.get(_key(username), 0)) >= MAX_FAILURES


def record_failure(username: str) -> None:
    key = _key(username)
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)


def record_success(username: str) -> None:
    cache.delete(_key(username))


LOCKED_MESSAGE = (
    f"Too many failed sign-ins for this username. Wait {WINDOW_SECONDS // 60} minutes or ask your program "
    "administrator to reset the password."
)
