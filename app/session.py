"""A visitor's session: the one :class:`app.view.View`, the events waiting for it, and the widgets bound
to it. Every session key is here.

The view is owned by :func:`apply` alone. A widget shows one of its fields (:func:`bind`): before
the widget is drawn its key gets the view's value, and its callback records a ``Set`` event. A
component's or a button's callback records events too (:func:`record`), which also reruns just
the part of the page they change (``app.view.redraw``). Each run applies the waiting events at
its top (:func:`apply_events`) and writes the link at its end (:func:`write_link`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import link
from app.view import Event, Set, View, link_of, next_view, redraw

VIEW = "view_state"  # the View
EVENTS = "view_events"  # events recorded by callbacks, applied at the top of the next run
# Data too big for the view (and the link), each written by one panel:
UPLOADED = "uploaded"  # app.panels.upload: (pixels (H, W, C), title) of the image encoded last
DRAWING = "drawing"  # app.panels.lesson: the pad's last drawing (H, W, C), or None
EXPLORER_DRAWN = "explorer_drawn"  # the explorer's elements are on the page (see app.view.redraw)


def current() -> View:
    """The view as the last apply left it (a fresh View before the first)."""
    return st.session_state.get(VIEW) or View()


def apply(*events: Event) -> View:
    """Apply events to the view now (the page's own events, like the bundle it loaded)."""
    view = functools.reduce(next_view, events, current())
    st.session_state[VIEW] = view
    return view


def apply_events() -> View:
    """At the top of a run (the page's, or a fragment's own): apply what callbacks recorded."""
    return apply(*st.session_state.pop(EVENTS, []))


def record(*events: Event) -> None:
    """From a callback: keep ``events`` for the next run and rerun only the parts they change.

    Ends the callback when there is something to redraw (Streamlit's rerun halts it)."""
    queued = st.session_state.setdefault(EVENTS, [])
    before = functools.reduce(next_view, queued, current())  # as the next run will find it
    after = functools.reduce(next_view, events, before)
    queued.extend(events)
    parts = redraw(before, after, st.session_state.get(EXPLORER_DRAWN, False))
    if not parts:
        return
    try:
        st.rerun(parts)
    except StreamlitAPIException:  # a part that is not on the page now: run the whole page
        st.rerun("app")


def explorer_drawn(drawn: bool) -> None:
    """Whether the explorer's elements are on the page: False from the top of a whole-page run that
    leaves them out, True once one has drawn them all."""
    st.session_state[EXPLORER_DRAWN] = drawn


def bind(
    field: str,
    key: str,
    to_widget: Callable[[object], object] | None = None,
    from_widget: Callable[[object], object] | None = None,
) -> dict:
    """Keyword arguments for a widget that shows and changes the view's ``field``: its ``key``
    (holding the field's value, through ``to_widget``) and the callback recording the change."""
    value = getattr(current(), field)
    st.session_state[key] = to_widget(value) if to_widget else value
    return {"key": key, "on_change": _changed, "args": (field, key, from_widget)}


def _changed(field: str, key: str, from_widget: Callable[[object], object] | None) -> None:
    value = st.session_state.get(key)
    record(Set(field, from_widget(value) if from_widget else value))


def on_click(*events: Event) -> dict:
    """Keyword arguments for a button that records ``events``."""
    return {"on_click": record, "args": events}


def in_fragment_run() -> bool:
    """True while only a fragment runs (a fragment's own rerun), False in a whole-page run."""
    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def write_link(view: View) -> None:
    """Write the view into the query string (only when it changed)."""
    params = link.format_query(link_of(view))
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
