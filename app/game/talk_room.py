"""Talk mode's state in SQL: which beat a room's talk is on, the phones' answers to each beat, their points.

A talk runs in a room of app/game/room.py: the room gives the code, the presenter's secret, the players
(with their tokens, so a phone that rejoins keeps its score) and the Fake-or-real rounds of the talk's
``fake_or_real`` beats. This module adds two tables in the same database, so a talk works across the
server processes of ``scripts/serve.sh`` and a presenter who reloads comes back to the same beat:

* ``talk_progress``: per room, the talk file, the beat on screen (1-based), whether it is asking or
  revealed, what the stage shows (the beat, the QR code, or nothing), and per beat what the stage keeps
  (the model's answers to a word guess once revealed, the room's sentence the speaker put through the gates);
* ``talk_answers``: one answer per player per beat (a unique constraint), with its points once revealed
  and whether the speaker hid it from the stage.

Only the presenter's secret (checked by ``RoomStore.presenter_room``) moves a talk; anyone with the room's
code may read it (the stage and the results page read it by the public code alone; the results hold only
the beats revealed and no hidden answer).

A phone that lost its token (another browser, cleared data) rejoins as the same player with its nickname and
its personal rejoin code (``rejoin_code``: derived from the token, so nothing more is stored), which only
that phone shows.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.game.database import DATABASE_ENV
from app.game.nicknames import distinct_names
from app.game.room import (
    RoomError,
    RoomNotFound,
    RoomStore,
    RoomUnavailable,
    VoteRefused,
    normalise_code,
    room_players,
    room_votes,
    rooms,
    typed_parameters,
)
from app.game.talk import CHOICE, FAKE_OR_REAL, Beat, Talk, check_answer, score_answers

ASK, REVEALED = "ask", "revealed"
CLOSED = "Too late: the answers to that question are closed."
BEAT, QR, BLANK = "beat", "qr", "blank"  # what the stage shows
# Rejoin codes: no 0/O, 1/I/L to misread; 31^6 ≈ 890 million codes per nickname.
REJOIN_ALPHABET, REJOIN_LENGTH = "ABCDEFGHJKMNPQRSTUVWXYZ23456789", 6

metadata = MetaData()

talk_progress = Table(
    "talk_progress", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, nullable=False, unique=True),  # rooms.id (app/game/room.py)
    Column("talk", String(200), nullable=False),  # the talk file's name in talks/
    Column("beat", Integer, nullable=False),
    Column("phase", String(10), nullable=False),
    Column("screen", String(10), nullable=False),
    # JSON {beat: ...}: a revealed word guess's {"words": [...], "note": "..."}, a gates demo's {"chosen": answer id}
    Column("model_answers", Text),
    Column("moved_at", Float, nullable=False),
)

talk_answers = Table(
    "talk_answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, nullable=False, index=True),
    Column("beat", Integer, nullable=False),
    Column("player_id", Integer, nullable=False),  # room_players.id
    Column("answer", String(80), nullable=False),
    Column("points", Integer),  # None until the beat is revealed
    Column("hidden", Boolean, nullable=False, default=False),
    Column("answered_at", Float, nullable=False),
    UniqueConstraint("room_id", "beat", "player_id", name="one_answer_per_player_per_beat"),
)


# ---------------------------------------------------------------- the queries phones make

# Built once, run with parameters, found by the room's code (a unique index), as room.py's PHONE_STATUS: a
# phone's rerun reads a handful of rows, never every answer or every player of the room.

# The room (its id: no row, no room) and its talk's progress (None columns: no talk).
PROGRESS_BY_CODE = (select(rooms.c.id.label("room_id"), talk_progress.c.id.label("progress_id"), talk_progress.c.talk,
                           talk_progress.c.beat, talk_progress.c.phase, talk_progress.c.screen,
                           talk_progress.c.model_answers, talk_progress.c.moved_at)
                    .select_from(rooms.outerjoin(talk_progress, talk_progress.c.room_id == rooms.c.id))
                    .where(rooms.c.code == bindparam("code")))

# One player's answer to one beat, by their token: the unique constraint's index finds it.
PLAYER_ANSWER = (select(talk_answers.c.id, talk_answers.c.player_id, room_players.c.nickname, talk_answers.c.answer,
                        talk_answers.c.points, talk_answers.c.hidden)
                 .select_from(rooms
                              .join(room_players, and_(room_players.c.room_id == rooms.c.id,
                                                       room_players.c.token == bindparam("token")))
                              .join(talk_answers, and_(talk_answers.c.room_id == rooms.c.id,
                                                       talk_answers.c.beat == bindparam("beat"),
                                                       talk_answers.c.player_id == room_players.c.id)))
                 .where(rooms.c.code == bindparam("code")))

# An answer is inserted only while its beat is asking, checked by the insert itself (as room.py's votes). Unlike
# a vote, an answer is scored by the reveal, so none may land while a reveal is under way: the insert shares a
# lock on the talk's progress row (FOR SHARE on PostgreSQL) that the reveal's first statement, closing the beat,
# takes whole; each waits for the other. SQLite lets one writer in at a time, which does the same.
INSERT_ANSWER_IF_ASKING = insert(talk_answers).from_select(
    ["room_id", "beat", "player_id", "answer", "hidden", "answered_at"],
    select(talk_progress.c.room_id, talk_progress.c.beat,
           *typed_parameters(player_id=Integer, answer=String(80)), false(), *typed_parameters(now=Float))
    .where(talk_progress.c.room_id == bindparam("room_id"), talk_progress.c.beat == bindparam("beat"),
           talk_progress.c.phase == ASK)
    .with_for_update(read=True)
).returning(talk_answers.c.id)  # what was inserted (a rowcount is not reported for this on PostgreSQL)

# Every player's points in the talk (its beats and its Fake-or-real rounds), summed in the database; "mine"
# marks the token's player, so a phone learns its place without a token leaving the database.
_room_id = select(rooms.c.id).where(rooms.c.code == bindparam("code")).scalar_subquery()
_talk_points = (select(talk_answers.c.player_id, func.sum(talk_answers.c.points).label("points"))
                .where(talk_answers.c.room_id == _room_id).group_by(talk_answers.c.player_id).subquery())
_round_points = (select(room_votes.c.player_id, func.sum(room_votes.c.points).label("points"))
                 .join(room_players, room_players.c.id == room_votes.c.player_id)
                 .where(room_players.c.room_id == _room_id).group_by(room_votes.c.player_id).subquery())
TOTALS = (select(room_players.c.id, room_players.c.nickname,
                 (func.coalesce(_talk_points.c.points, 0) + func.coalesce(_round_points.c.points, 0)).label("total"),
                 (room_players.c.token == bindparam("token")).label("mine"))
          .select_from(room_players
                       .outerjoin(_talk_points, _talk_points.c.player_id == room_players.c.id)
                       .outerjoin(_round_points, _round_points.c.player_id == room_players.c.id))
          .where(room_players.c.room_id == _room_id).order_by(room_players.c.id))


@dataclass(frozen=True)
class Progress:
    talk: str
    beat: int
    phase: str
    screen: str
    revealed_answers: dict  # beat number (as text) -> what the stage keeps of it (see talk_progress)
    moved_at: float

    @property
    def model_answers(self) -> dict | None:
        """What the model said to the beat on screen, once it is revealed."""
        return self.revealed_answers.get(str(self.beat))

    @property
    def chosen(self) -> int | None:
        """The answer the speaker put on the stage for the beat on screen (a gates demo's sentence)."""
        return (self.model_answers or {}).get("chosen")

    @property
    def key(self) -> str:
        """What a phone's page is drawn for, on top of the room's own (the room feed compares it)."""
        return f"talk{self.beat}/{self.phase}"


@dataclass(frozen=True)
class Answer:
    id: int
    player_id: int
    name: str
    answer: str
    points: int | None
    hidden: bool


@dataclass(frozen=True)
class BeatResult:
    """One revealed beat for the results page: its answers shown (not hidden), most frequent first."""
    beat: Beat
    answered: int
    counts: list[tuple[str, int]]
    said: dict  # what the stage kept of it (the model's words of a word guess)


def rejoin_code(token: str) -> str:
    """A player's personal rejoin code, derived from their token: the same on every reload, different for
    every player, and telling nothing of the token."""
    digest = hashlib.sha256(f"atelier-rejoin:{token}".encode()).digest()
    return "".join(REJOIN_ALPHABET[byte % len(REJOIN_ALPHABET)] for byte in digest[:REJOIN_LENGTH])


def first_round(talk: Talk, beat: Beat) -> int:
    """The room round a fake_or_real beat starts at: its rounds follow those of the beats before it."""
    return 1 + sum(b.settings["rounds"] for b in talk.beats[:beat.number - 1] if b.kind == FAKE_OR_REAL)


def rounds_needed(talk: Talk) -> int:
    return sum(b.settings["rounds"] for b in talk.beats if b.kind == FAKE_OR_REAL)


def tally(answers: list[str]) -> list[tuple[str, int]]:
    """(answer, how many), most frequent first, then alphabetical."""
    return sorted(Counter(answers).items(), key=lambda item: (-item[1], item[0]))


def shown_answer(beat: Beat, stored: str) -> str:
    """An answer as people read it: a tile's text rather than its index."""
    return beat.settings["options"][int(stored)] if beat.kind == CHOICE else stored


class TalkStore(RoomStore):
    """Rooms (RoomStore) plus their talks, in one database."""

    what = "The talks' database"
    fallback = f"The talk cannot run until the host fixes it or points {DATABASE_ENV} elsewhere."

    def __init__(self, url: str | None = None, busy_timeout: float = 30.0):
        super().__init__(url, busy_timeout)  # the rooms' tables
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as e:
            raise RoomUnavailable(self._explain(e)) from e

    # ------------------------------------------------------------ the presenter

    def start_talk(self, code: str, secret: str, talk: str, now: float | None = None) -> None:
        """Put the room's talk on its first beat (again, if it had one)."""
        now = time.time() if now is None else now
        room = self.presenter_room(code, secret, now)

        def start(connection):
            connection.execute(talk_progress.delete().where(talk_progress.c.room_id == room.id))
            connection.execute(insert(talk_progress).values(room_id=room.id, talk=talk, beat=1, phase=ASK,
                                                            screen=BEAT, moved_at=now))
        self._write(start)

    def go_to(self, code: str, secret: str, talk: Talk, number: int, now: float | None = None) -> int:
        """Show beat `number` (clamped to the talk), asking again unless it was revealed; returns the beat shown."""
        now = time.time() if now is None else now
        room = self.presenter_room(code, secret, now)
        number = max(1, min(len(talk.beats), number))
        revealed = self._read(select(func.count()).select_from(talk_answers)
                              .where(talk_answers.c.room_id == room.id, talk_answers.c.beat == number,
                                     talk_answers.c.points.is_not(None)))[0][0]
        self._write(lambda connection: connection.execute(
            update(talk_progress).where(talk_progress.c.room_id == room.id)
            .values(beat=number, phase=REVEALED if revealed else ASK, screen=BEAT, moved_at=now)))
        return number

    def show(self, code: str, secret: str, screen: str, now: float | None = None) -> None:
        """What the stage shows: the beat, the QR code or nothing (B); the same key again goes back to the beat."""
        if screen not in (BEAT, QR, BLANK):
            raise RoomError("The stage shows the beat, the QR code or nothing.")
        room = self.presenter_room(code, secret, now)
        current = self.progress(code).screen
        self._write(lambda connection: connection.execute(
            update(talk_progress).where(talk_progress.c.room_id == room.id)
            .values(screen=BEAT if current == screen else screen)))

    def reveal_beat(self, code: str, secret: str, beat: Beat, model_answers: dict | None = None,
                    now: float | None = None) -> dict[int, int]:
        """Close the beat's answers, score them (model_answers: {"words": ranked, "note": why}) and show the
        answer. Revealing again scores again with the same rule: points never count twice."""
        now = time.time() if now is None else now
        room = self.presenter_room(code, secret, now)

        def reveal(connection):
            # Closing the beat comes first: it takes the lock every answer's insert waits for (see
            # INSERT_ANSWER_IF_ASKING), so the answers read below are all the beat will ever accept. (On
            # SQLite a write first is also what makes Python's sqlite3 begin the transaction before the read.)
            kept = connection.execute(update(talk_progress)
                                      .where(talk_progress.c.room_id == room.id, talk_progress.c.beat == beat.number)
                                      .values(phase=REVEALED, screen=BEAT, moved_at=now)
                                      .returning(talk_progress.c.model_answers)).all()
            if not kept:
                raise RoomError("The talk moved on in another window; look again.")
            rows = connection.execute(select(talk_answers.c.player_id, talk_answers.c.answer)
                                      .where(talk_answers.c.room_id == room.id, talk_answers.c.beat == beat.number))
            points = score_answers(beat, {r.player_id: r.answer for r in rows}, (model_answers or {}).get("words"))
            if points:
                connection.execute(update(talk_answers)
                                   .where(talk_answers.c.room_id == room.id, talk_answers.c.beat == beat.number,
                                          talk_answers.c.player_id == bindparam("player"))
                                   .values(points=bindparam("earned")),
                                   [{"player": player, "earned": earned} for player, earned in points.items()])
            if model_answers:
                said = {**json.loads(kept[0].model_answers or "{}"), str(beat.number): model_answers}
                connection.execute(update(talk_progress).where(talk_progress.c.room_id == room.id)
                                   .values(model_answers=json.dumps(said)))
            return points
        return self._write(reveal)

    def choose_answer(self, code: str, secret: str, beat: int, answer_id: int) -> None:
        """Put one answer on the stage (the sentence the gates demo reads), in place of the latest one."""
        room = self.presenter_room(code, secret)
        if not any(a.id == answer_id for a in self.answers(code, beat)):
            raise RoomError("That answer is not one of this beat's.")
        kept = {**self.progress(code).revealed_answers, str(beat): {"chosen": answer_id}}
        self._write(lambda connection: connection.execute(
            update(talk_progress).where(talk_progress.c.room_id == room.id).values(model_answers=json.dumps(kept))))

    def hide_answer(self, code: str, secret: str, answer_id: int, hidden: bool = True) -> None:
        """Take one answer off the stage (or put it back): one click in the speaker view."""
        room = self.presenter_room(code, secret)
        self._write(lambda connection: connection.execute(
            update(talk_answers).where(talk_answers.c.room_id == room.id, talk_answers.c.id == answer_id)
            .values(hidden=hidden)))

    # ------------------------------------------------------------ phones

    def answer(self, code: str, token: str, beat: Beat, raw: str, now: float | None = None) -> str:
        """Record this phone's answer to the beat on screen; returns it as stored. VoteRefused says why not."""
        now = time.time() if now is None else now
        status = self.phone_status(code, token, now)
        if not status.joined:
            raise VoteRefused("This phone is not in the room: join with a nickname first.")
        room_id, progress = self._room_and_progress(code)
        if progress is None or progress.beat != beat.number or progress.phase != ASK:
            raise VoteRefused(CLOSED)
        try:
            stored = check_answer(beat, raw)
        except ValueError as e:
            raise VoteRefused(str(e)) from e
        try:
            added = self._write(lambda connection: connection.execute(INSERT_ANSWER_IF_ASKING, {
                "room_id": room_id, "beat": beat.number, "player_id": status.player_id, "answer": stored,
                "now": now}).all())
        except RoomUnavailable as e:
            if isinstance(e.__cause__, IntegrityError):
                raise VoteRefused("You have already answered this one.") from e
            raise
        if len(added) != 1:
            raise VoteRefused(CLOSED)  # the beat was revealed (or left) since the check above
        return stored

    def rejoin(self, code: str, nickname: str, typed_code: str) -> str:
        """The token of the player with this nickname (as typed, or as the board shows it: "Alice #2") and
        this rejoin code, so a phone that lost its own comes back as that player; RoomError if none."""
        room = self._room(code)
        wanted = unicodedata.normalize("NFKC", nickname or "").strip().casefold()
        typed = re.sub(r"[^A-Z0-9]", "", unicodedata.normalize("NFKC", typed_code or "").upper())
        rows = self._read(select(room_players.c.id, room_players.c.nickname, room_players.c.token)
                          .where(room_players.c.room_id == room.id).order_by(room_players.c.id))
        shown = distinct_names((r.id, r.nickname) for r in rows)
        for r in rows:
            if (wanted in (r.nickname.casefold(), shown[r.id].casefold())
                    and hmac.compare_digest(rejoin_code(r.token), typed)):
                return r.token
        raise RoomError(f"Nobody in room {room.code} has that nickname and rejoin code: both are on the phone "
                        f"you joined with.")

    # ------------------------------------------------------------ what the screens read

    def progress(self, code: str) -> Progress | None:
        """The room's talk, by the public code: None for a room without a talk."""
        return self._room_and_progress(code)[1]

    def _room_and_progress(self, code: str) -> tuple[int, Progress | None]:
        """(the room's id, its talk's progress or None), in one indexed query (every phone's rerun asks)."""
        rows = self._read(PROGRESS_BY_CODE, code=normalise_code(code))
        if not rows:
            raise RoomNotFound(f"There is no room {normalise_code(code) or '(empty)'}: check the code on the screen.")
        r = rows[0]
        if r.progress_id is None:
            return r.room_id, None
        return r.room_id, Progress(r.talk, r.beat, r.phase, r.screen,
                                   json.loads(r.model_answers) if r.model_answers else {}, r.moved_at)

    def answers(self, code: str, beat: int) -> list[Answer]:
        """Every answer to a beat, first come first."""
        room = self._room(code)
        names = self._names(room.id)
        rows = self._read(select(talk_answers).where(talk_answers.c.room_id == room.id, talk_answers.c.beat == beat)
                          .order_by(talk_answers.c.id))
        return [Answer(r.id, r.player_id, names.get(r.player_id, "?"), r.answer, r.points, bool(r.hidden)) for r in rows]

    def featured_answer(self, code: str, beat: int, chosen: int | None) -> Answer | None:
        """The answer the stage shows of a gates demo: the one the speaker chose, else the latest (never a
        hidden one); None before any."""
        shown = [a for a in self.answers(code, beat) if not a.hidden]
        return next((a for a in shown if a.id == chosen), shown[-1] if shown else None)

    def player_answer(self, code: str, token: str, beat: int) -> Answer | None:
        """This phone's answer to a beat, or None: one row by the unique constraint's index (each phone's
        rerun asks). Its name is the nickname as typed: telling namesakes apart ("Alice #2") needs every name."""
        rows = self._read(PLAYER_ANSWER, code=normalise_code(code), token=token or "", beat=beat)
        return next((Answer(r.id, r.player_id, r.nickname, r.answer, r.points, bool(r.hidden)) for r in rows), None)

    def counts(self, code: str, beat: int) -> list[tuple[str, int]]:
        """The answers the stage may show (not hidden), most frequent first: (answer, how many)."""
        return tally([a.answer for a in self.answers(code, beat) if not a.hidden])

    def talk_points(self, code: str) -> dict[int, int]:
        """Points per player from the talk's beats (Fake-or-real rounds count in RoomStore.standings)."""
        room = self._room(code)
        rows = self._read(select(talk_answers.c.player_id, func.coalesce(func.sum(talk_answers.c.points), 0))
                          .where(talk_answers.c.room_id == room.id).group_by(talk_answers.c.player_id))
        return {int(r[0]): int(r[1]) for r in rows}

    def talk_standings(self, code: str) -> list[tuple[int, str, int]]:
        """(rank, name, points) for every player: the talk's beats and its Fake-or-real rounds together; ties
        share a rank (one more than the players ahead), earliest joined first."""
        rows = self._read(TOTALS, code=normalise_code(code), token="")
        shown = distinct_names((r.id, r.nickname) for r in rows)
        totals = sorted(((int(r.total), r.id) for r in rows), key=lambda t: (-t[0], t[1]))
        ranked, previous = [], None
        for place, (total, player_id) in enumerate(totals, 1):
            rank = ranked[-1][0] if previous == total else place
            ranked.append((rank, shown[player_id], total))
            previous = total
        return ranked

    def place(self, code: str, token: str) -> tuple[int, int, int] | None:
        """(rank, players, points) of this phone as in talk_standings, or None if it is not in the room: from
        every player's total alone (no names, no sorting: every phone asks after each reveal)."""
        rows = self._read(TOTALS, code=normalise_code(code), token=token or "")
        mine = next((int(r.total) for r in rows if r.mine), None)
        if mine is None:
            return None
        return 1 + sum(int(r.total) > mine for r in rows), len(rows), mine

    def answers_csv(self, code: str, talk: Talk, public: bool = False) -> str:
        """Every answer of the talk, beat by beat, for the speaker; public: the results page's, only the
        beats revealed and no hidden answer."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["beat", "kind", "question", "player", "answer", "points", "hidden"])
        for beat in talk.beats:
            if not beat.asks:
                continue
            for a in self.answers(code, beat.number):
                if public and (a.hidden or a.points is None):
                    continue
                shown = shown_answer(beat, a.answer)
                writer.writerow([beat.number, beat.kind, beat.title or beat.text[:80], a.name, shown,
                                 "" if a.points is None else a.points, "yes" if a.hidden else ""])
        return out.getvalue()

    def results(self, code: str, talk: Talk) -> list[BeatResult]:
        """The results page's summary: each revealed beat's answers (hidden ones left out) and the model's."""
        said = self.progress(code).revealed_answers
        found = []
        for beat in (b for b in talk.beats if b.asks):
            answers = self.answers(code, beat.number)
            if not any(a.points is not None for a in answers):
                continue  # not revealed: nothing of it is public
            counts = tally([shown_answer(beat, a.answer) for a in answers if not a.hidden])
            found.append(BeatResult(beat, len(answers), counts, said.get(str(beat.number)) or {}))
        return found

    def answered(self, code: str, beat: int) -> tuple[int, int]:
        """(answers to the beat, players in the room)."""
        room = self._room(code)
        count = self._read(select(func.count()).select_from(talk_answers)
                           .where(talk_answers.c.room_id == room.id, talk_answers.c.beat == beat))[0][0]
        return int(count), self.player_count(code)

    def _names(self, room_id: int) -> dict[int, str]:
        rows = self._read(select(room_players.c.id, room_players.c.nickname).where(room_players.c.room_id == room_id)
                          .order_by(room_players.c.id))
        return distinct_names((r.id, r.nickname) for r in rows)
