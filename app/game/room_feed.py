"""The room's pulse for phones: ``GET /_room/<CODE>?drawn_for=…`` answers when a phone's page is out of date.

A phone in a room must learn of a new round within a second. A Streamlit poll (a fragment with
``run_every``) is a whole script run, 8 ms of a worker's CPU each time: 100 phones asking every half
second would take more than the two cores of a laptop. So the phone's browser asks this small route
instead (asgi.py mounts it beside the pages), saying what its page is drawn for, and the answer comes
when that is out of date (a new round, the countdown's end, a pause, the reveal) or after
``HOLD_SECONDS``: a long poll. The phone then reruns its room fragment, once per change.

The answer is the room's, not the player's (``PhoneStatus.drawn_for``): each worker reads a room from
the database at most once per ``FRESH_SECONDS``, however many phones wait on it.
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.game.room import RoomError, RoomUnavailable, normalise_code
from app.game.talk_room import TalkStore

FEED_PATH = "/_room/{code}"  # what asgi.py mounts; ui/room.py builds the phones' address from it
FRESH_SECONDS = 0.1  # a reading this recent is reused: one query per room per worker per tick
HOLD_SECONDS = 20.0  # a question is answered after this at the latest (HAProxy's server timeout is 60 s)
KEPT_ROOMS = 256  # readings kept per process; older ones are dropped when there are more


class RoomFeed:
    """Recent readings of rooms' states (and their talks'), from one TalkStore (the database of ATELIER_DATABASE_URL)."""

    def __init__(self, url: str | None = None):
        self._url = url
        self._store: TalkStore | None = None
        self._readings: dict[str, tuple[float, dict]] = {}

    def recent(self, code: str, now: float) -> dict | None:
        """The room's reading if one is fresh (no database, no waiting), else None."""
        read_at, reading = self._readings.get(normalise_code(code), (0.0, None))
        return reading if now - read_at <= FRESH_SECONDS else None

    def state(self, code: str, now: float | None = None) -> dict:
        """{"drawn_for": …, "seconds_left": …} for a room, or {"error": why} (no such room, no database)."""
        code, now = normalise_code(code), time.time() if now is None else now
        reading = self.recent(code, now)
        if reading is None:
            reading = self._read(code, now)
            if len(self._readings) >= KEPT_ROOMS:
                self._readings.clear()  # many rooms at once is rare; the next reads refill it
            self._readings[code] = (now, reading)
        return reading

    def _read(self, code: str, now: float) -> dict:
        try:
            if self._store is None:
                self._store = TalkStore(self._url)
            status = self._store.phone_status(code, None, now)
            talk = self._store.progress(code)  # a talk's phones redraw when its beat moves on too
        except (RoomError, RoomUnavailable) as e:
            return {"error": str(e)}
        if status.expired:
            return {"error": f"Room {status.code} has expired."}
        return {"drawn_for": status.drawn_for(now) + (f"/{talk.key}" if talk else ""), "seconds_left": round(status.seconds_left(now), 2)}


FEED = RoomFeed()


async def room_state(request: Request) -> JSONResponse:
    """The route. With ``?drawn_for=…`` it waits (without a thread) until the room has moved on; a
    fresh reading is shared, and a database read runs in a thread so the event loop never waits on it."""
    code, known = request.path_params["code"], request.query_params.get("drawn_for")
    give_up = time.monotonic() + HOLD_SECONDS
    while True:
        reading = FEED.recent(code, time.time()) or await run_in_threadpool(FEED.state, code)
        if reading.get("drawn_for") != known or "error" in reading or time.monotonic() > give_up:
            return JSONResponse(reading, status_code=404 if "error" in reading else 200,
                                headers={"Cache-Control": "no-store"})
        await asyncio.sleep(FRESH_SECONDS)
