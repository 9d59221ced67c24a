"""The room's pulse for phones: ``GET /_room/<CODE>?drawn_for=…`` answers when a phone's page is out of date.

A phone in a room must learn of a new round within a second. A Streamlit poll (a fragment with
``run_every``) is a whole script run, 8 ms of a worker's CPU each time: 100 phones asking every half
second would take more than the two cores of a laptop. So the phone's browser asks this small route
instead (asgi.py mounts it beside the pages), saying what its page is drawn for, and the answer comes
when that is out of date (a new round, the countdown's end, a pause, the reveal, the talk's next beat)
or after ``HOLD_SECONDS``: a long poll. The phone then reruns its room fragment, once per change.

The answer is the room's, not the player's (``PhoneStatus.drawn_for``), so a room's phones wait together
(``RoomWatch``): while any phone of a room waits on a worker, one reader reads that room from the
database every ``FRESH_SECONDS`` and, when the room moves on, answers all of them in the same instant.
(Each phone polling on its own woke up to a tick late, and the phones that woke during a read started
reads of their own: with 100 phones, reads queued behind the reruns and phones heard 0.5 s late.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.game.room import RoomError, RoomUnavailable, normalise_code
from app.game.talk_room import TalkStore

FEED_PATH = "/_room/{code}"  # what asgi.py mounts; ui/room.py builds the phones' address from it
FRESH_SECONDS = 0.05  # a room's waiting phones hear of a change this soon: one query per room per worker per tick
HOLD_SECONDS = 20.0  # a question is answered after this at the latest (HAProxy's server timeout is 60 s)
KEPT_ROOMS = 256  # readings kept per process; older ones are dropped when there are more


def moved(reading: dict, drawn_for: str | None) -> bool:
    """Whether a page drawn for ``drawn_for`` is out of date by this reading (or the room is gone)."""
    return "error" in reading or reading.get("drawn_for") != drawn_for


@dataclass
class RoomWatch:
    """A room's phones waiting on one worker, and the one reader that reads the room for all of them."""

    reading: dict | None = None
    waiting: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) when the room moves on
    next_read: asyncio.Event = field(default_factory=asyncio.Event)  # set after the next read to start
    look_now: asyncio.Event = field(default_factory=asyncio.Event)  # a phone asks for a read before the tick
    reader: asyncio.Task | None = None

    def took(self, reading: dict) -> None:
        """A new reading: wake the phones waiting for a change if it is one."""
        before, self.reading = self.reading, reading
        if before is None or moved(reading, before.get("drawn_for")):
            self.changed.set()
            self.changed = asyncio.Event()


class RoomFeed:
    """Readings of rooms' states (and their talks'), from one TalkStore (the database of ATELIER_DATABASE_URL),
    and the rooms' phones waiting on this process."""

    def __init__(self, url: str | None = None):
        self._url = url
        self._store: TalkStore | None = None
        self._readings: dict[str, tuple[float, dict]] = {}
        self._watches: dict[str, RoomWatch] = {}

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

    async def moved_on(self, code: str, drawn_for: str | None, hold: float) -> dict:
        """The room's reading once a page drawn for ``drawn_for`` is out of date, or after ``hold`` seconds.

        A page that looks out of date by the last reading gets a read that starts after it asked first (at
        once, shared with the phones asking meanwhile): it may have been drawn after the room moved on, and
        must not rerun for a reading older than itself."""
        code = normalise_code(code)
        watch = self._watches.get(code)
        if watch is None:
            watch = self._watches[code] = RoomWatch()
            watch.reader = asyncio.create_task(self._follow(code, watch))
        watch.waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(hold):
                    if watch.reading is None or moved(watch.reading, drawn_for):
                        read = watch.next_read
                        watch.look_now.set()
                        await read.wait()
                    while not moved(watch.reading, drawn_for):
                        await watch.changed.wait()
            return watch.reading if watch.reading is not None else await run_in_threadpool(self.state, code)
        finally:
            watch.waiting -= 1

    async def _follow(self, code: str, watch: RoomWatch) -> None:
        """The room's one reader on this process: a read every FRESH_SECONDS (or when a phone asks) while a
        phone waits; a database read runs in a thread, so the event loop never waits on it."""
        try:
            while True:
                watch.look_now.clear()
                this_read, watch.next_read = watch.next_read, asyncio.Event()
                self._readings.pop(code, None)  # a new read, not the last one again
                watch.took(await run_in_threadpool(self.state, code))
                this_read.set()
                if not watch.waiting:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.look_now.wait(), FRESH_SECONDS)
        finally:
            if self._watches.get(code) is watch:
                del self._watches[code]


FEED = RoomFeed()


async def room_state(request: Request) -> JSONResponse:
    """The route. With ``?drawn_for=…`` it waits (without a thread) until the room has moved on."""
    code, known = request.path_params["code"], request.query_params.get("drawn_for")
    reading = await FEED.moved_on(code, known, HOLD_SECONDS)
    return JSONResponse(reading, status_code=404 if "error" in reading else 200, headers={"Cache-Control": "no-store"})
