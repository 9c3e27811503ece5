"""Two guards around Streamlit 1.67 for input that comes from outside the app's control.

* Its static route (``server.enableStaticServing``) answers ``GET /app/static/<a name longer than
  the file system allows>`` with HTTP 500 and a traceback: it asks the file system whether the file
  exists, and the "file name too long" error is not caught. The route's path check is made to refuse
  such names first (HTTP 400, as for any other unusable path).
* A component's trigger value is parsed with ``json.loads``, which only catches malformed JSON: a
  page that sends 5000-deep nested arrays raises RecursionError inside Streamlit, and the session
  shows the generic error. Such a value is dropped instead (no trigger), as the app drops every
  other malformed value a page sends.

Each wraps the one Streamlit function concerned, once; tests/e2e/test_hostile_browser.py sends
both inputs, so an upgrade that moves a function fails there instead of bringing the error back.
"""

from __future__ import annotations

NAME_MAX = 255  # bytes in one path component (Linux)
PATH_MAX = 1024  # characters in the whole relative path: far beyond any file the app serves


def _wrap(module, name: str, make) -> bool:
    original = getattr(module, name, None)
    if original is None:
        return False
    if not getattr(original, "vae_guarded", False):
        guarded = make(original)
        guarded.vae_guarded = True
        setattr(module, name, guarded)
    return True


def _refusing_overlong_names(check):
    def guarded(root: str, relative: str) -> str | None:
        parts = relative.split("/")
        if len(relative) > PATH_MAX or any(len(p.encode("utf-8", "replace")) > NAME_MAX for p in parts):
            return None  # the route answers 400 Bad Request
        return check(root, relative)

    return guarded


def _dropping_too_deep_json(deserialize):
    def guarded(s):
        try:
            return deserialize(s)
        except RecursionError:
            return None  # no value: the component's callback finds nothing to apply

    return guarded


def install() -> None:
    """Install both guards (idempotent: the app calls this on every run)."""
    from streamlit.components.v2.bidi_component import serialization
    from streamlit.web.server.starlette import starlette_routes

    _wrap(starlette_routes, "build_safe_abspath", _refusing_overlong_names)
    _wrap(serialization, "handle_deserialize", _dropping_too_deep_json)
