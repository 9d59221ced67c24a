"""The app's side of ``scripts/serve.sh``: tell a visitor whose worker died that the page started afresh.

HAProxy keeps each browser on one worker by the cookie ``ATELIER_WORKER``, and names the worker that
holds the page's session in ``ATELIER_PAGE_WORKER`` when the page's websocket opens (serve.sh gives
each worker its name as ``$ATELIER_WORKER_NAME``). When that worker dies, Streamlit's page reconnects
by itself and HAProxy sends it to a living worker, where it gets a new session: the page cookie still
names the dead worker, which is how the new one knows the visitor lost a session elsewhere.
"""

from __future__ import annotations

import os

import streamlit as st

WORKER_ENV = "ATELIER_WORKER_NAME"
WORKER_COOKIE = "ATELIER_WORKER"  # set by HAProxy (deploy/haproxy.cfg.template): where requests go
PAGE_WORKER_COOKIE = "ATELIER_PAGE_WORKER"  # set by HAProxy: where the page's last session was
CHECKED = "serve_worker_checked"
MOVED = ("The server this page was on stopped, so the room's proxy moved you to another one and the page "
         "started afresh: a game in progress is gone, finished games on the leaderboard are safe. "
         "Press New game to play on.")


def came_from_another_worker() -> bool:
    """True on the first run of a session whose browser was last on another (dead) worker."""
    here = os.environ.get(WORKER_ENV)
    if not here or st.session_state.get(CHECKED):
        return False
    st.session_state[CHECKED] = True
    before = st.context.cookies.get(PAGE_WORKER_COOKIE)
    return bool(before) and before != here


def say_if_moved() -> None:
    if came_from_another_worker():
        st.warning(MOVED, icon="🔌")
