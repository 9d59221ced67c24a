"""The app's side of ``scripts/serve.sh``: tell a visitor whose worker died what that changed for them.

HAProxy keeps each browser on one worker by the cookie ``ATELIER_WORKER``, and names the worker that
holds the page's session in ``ATELIER_PAGE_WORKER`` when the page's websocket opens (serve.sh gives
each worker its name as ``$ATELIER_WORKER_NAME``). When that worker dies, Streamlit's page reconnects
by itself and HAProxy sends it to a living worker, where it gets a new session: the page cookie still
names the dead worker, which is how the new one knows the visitor lost a session elsewhere. A worker
that supervisord started again has the same name, and a page that reconnects a few seconds after the
death may land on it: so each worker process also has its own id (name, pid, start time), which the
page keeps in a cookie (``ATELIER_PAGE_BOOT``); a new session whose browser names another process
lost a session there.

What the visitor is told depends on where they are:

- in a room (a phone on /play, the presenter on /present, any page of a room's address): the room
  lives in the database, so nothing was lost: "Reconnected, the room goes on", once, as a toast;
- in the solo quiz with a game in progress: that game lived in the dead worker's memory, so it is
  gone, and the page says so and how to play on. The new worker cannot see the old session, so the
  quiz page tells the browser while a game runs (a session cookie, ``remember_solo_game``);
- anywhere else: only that the page reconnected.
"""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs, urlsplit

import streamlit as st

from app.ui.room import ROOM_PARAM

WORKER_ENV = "ATELIER_WORKER_NAME"
WORKER_COOKIE = "ATELIER_WORKER"  # set by HAProxy (deploy/haproxy.cfg.template): where requests go
PAGE_WORKER_COOKIE = "ATELIER_PAGE_WORKER"  # set by HAProxy: where the page's last session was
BOOT_COOKIE = "ATELIER_PAGE_BOOT"  # set by the page: the worker process its last session was in
SOLO_GAME_COOKIE = "ATELIER_SOLO_GAME"  # set by the quiz page: "1" while a solo game is in progress
CHECKED = "serve_worker_checked"
SOLO_GAME_SENT = "serve_solo_game_sent"  # what this session last told the browser
ROOM_PAGES = {"play", "present"}

ROOM_MOVED = "Reconnected: the room goes on."
MOVED = ("The server this page was on stopped, so the room's proxy moved you to another one: your game in "
         "progress is gone (finished games on the leaderboard are safe). Press New game to play on.")
RECONNECTED = "Reconnected to another server."


STARTED = int(time.time())


def this_process() -> str:
    return f"{os.environ.get(WORKER_ENV)}.{os.getpid()}.{STARTED}"


def set_cookie(name: str, value: str) -> None:
    """Streamlit reads cookies but cannot set them: a one-line script in the page does (for this tab's life)."""
    st.html(f"<script>document.cookie = '{name}={value}; path=/; SameSite=Lax';</script>", unsafe_allow_javascript=True)


def came_from_another_worker() -> bool:
    """True on the first run of a session whose browser was last on another worker process: a dead
    worker, or the one supervisord started again in its place."""
    here = os.environ.get(WORKER_ENV)
    if not here or st.session_state.get(CHECKED):
        return False
    st.session_state[CHECKED] = True
    cookies = st.context.cookies
    before, before_process = cookies.get(PAGE_WORKER_COOKIE), cookies.get(BOOT_COOKIE)
    if before_process != this_process():
        set_cookie(BOOT_COOKIE, this_process())
    return (bool(before) and before != here) or (bool(before_process) and before_process != this_process())


def in_a_room() -> bool:
    """A room's phone or presenter: a room page, or any page opened from a room's address."""
    url = urlsplit(st.context.url or "")
    page = url.path.rstrip("/").rsplit("/", 1)[-1]
    return page in ROOM_PAGES or bool(parse_qs(url.query).get(ROOM_PARAM)) or bool(st.query_params.get(ROOM_PARAM))


def solo_game_was_in_progress() -> bool:
    return st.context.cookies.get(SOLO_GAME_COOKIE) == "1"


def say_if_moved() -> None:
    """Called at the top of every page: says, once, what a worker's death changed for this visitor."""
    if not came_from_another_worker():
        return
    if in_a_room():
        st.toast(ROOM_MOVED, icon="🔌")
    elif solo_game_was_in_progress():
        st.warning(MOVED, icon="🔌")
    else:
        st.toast(RECONNECTED, icon="🔌")


def remember_solo_game(in_progress: bool) -> None:
    """Tells the browser whether a solo game is in progress, for the worker it may be moved to.

    Only behind serve.sh (a named worker), and only when the answer changes."""
    if not os.environ.get(WORKER_ENV):
        return
    browser_has = st.session_state.get(SOLO_GAME_SENT)
    if browser_has is None:
        browser_has = solo_game_was_in_progress()
    st.session_state[SOLO_GAME_SENT] = in_progress
    if browser_has != in_progress:
        set_cookie(SOLO_GAME_COOKIE, str(int(in_progress)))
