"""Room mode: the speaker's screen shows one sentence, the room votes from phones, then the reveal.

Everything lives in the app's SQL database (app/game/database.py), so a room works across all the
server processes behind ``scripts/serve.sh`` and several rooms run at once, apart by their code:

* ``rooms``: a short code, the presenter's secret (stored as a hash), the bundle, the countdown, the
  phase (lobby → round → reveal → round … → over) and the current round's number;
* ``room_rounds``: the sentences of every round, dealt when the room is made, with when each round
  started, when its voting ends and when it was revealed;
* ``room_players``: a nickname and a token (the phone keeps it in its address) per phone;
* ``room_votes``: one vote per player per round, which a unique constraint enforces.

Only the presenter's secret starts, reveals, advances or ends a room. The presenter's page checks
in every second; when it has been silent for ``PRESENTER_AWAY`` seconds the room is paused (phones
cannot vote, the countdown stops) until the page is back with the secret. A phone reads
``phone_status``, one indexed query, when its page is drawn; the room feed (app/game/room_feed.py) tells it
when to draw again. Times are seconds since the epoch (``time.time()``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app.game import quiz
from app.game.database import DATABASE_ENV, DatabaseUnavailable, SqlStore
from app.game.leaderboard import FooledRow
from app.game.nicknames import NICKNAME_MAX, distinct_names, validate_nickname

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a projector
CODE_LENGTH = 4
DEFAULT_COUNTDOWN = 20
COUNTDOWN_RANGE = (3, 120)
MAX_ROUNDS = quiz.ROUNDS_PER_GAME
PRESENTER_AWAY = 10.0  # seconds without the presenter's page: the room pauses
ROOM_LIFETIME = 12 * 3600  # a room's code stops working after this (one talk)
MIXED = "mixed"  # difficulty setting: rounds go from easy to hard
LOBBY, ROUND, REVEAL, OVER = "lobby", "round", "reveal", "over"


class RoomError(ValueError):
    """Something a player or the presenter asked that cannot be done; str(error) says why."""


class RoomNotFound(RoomError):
    pass


class NotPresenter(RoomError):
    pass


class VoteRefused(RoomError):
    pass


class RoomUnavailable(DatabaseUnavailable):
    pass


# ---------------------------------------------------------------- schema

metadata = MetaData()

rooms = Table(
    "rooms", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(CODE_LENGTH), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    # the bundle played; its SQL column keeps the old name "deck" (renaming it would migrate existing databases)
    Column("deck", String(200), nullable=False, key="bundle"),
    Column("mode", String(20), nullable=False),
    Column("difficulty", String(20), nullable=False),  # a difficulty, or MIXED
    Column("rounds", Integer, nullable=False),
    Column("countdown", Integer, nullable=False),
    Column("phase", String(10), nullable=False),
    Column("current", Integer, nullable=False),  # the round on screen (1-based); 0 before the first
    Column("created_at", Float, nullable=False),
    Column("presenter_seen_at", Float, nullable=False),
)

room_rounds = Table(
    "room_rounds", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("difficulty", String(20), nullable=False),
    Column("sentences", Text, nullable=False),  # JSON: [{"text": ..., "real": ...}, ...]
    Column("started_at", Float),
    Column("ends_at", Float),
    Column("revealed_at", Float),
    UniqueConstraint("room_id", "number"),
)

room_players = Table(
    "room_players", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id"), nullable=False, index=True),
    Column("nickname", String(NICKNAME_MAX * 4), nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("joined_at", Float, nullable=False),
)

room_votes = Table(
    "room_votes", metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer, ForeignKey("room_rounds.id"), nullable=False),
    Column("player_id", Integer, ForeignKey("room_players.id"), nullable=False, index=True),
    Column("picked", Integer, nullable=False),  # which sentence the vote is about (0 in single mode)
    Column("says_real", Boolean, nullable=False),
    Column("confidence", String(20), nullable=False),
    Column("truth", String(10), nullable=False),  # about the fake in pair mode, as in the leaderboard
    Column("guess", String(10), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("points", Integer, nullable=False),
    Column("voted_at", Float, nullable=False),
    UniqueConstraint("round_id", "player_id", name="one_vote_per_player_per_round"),
)


# ---------------------------------------------------------------- what the pages read

@dataclass(frozen=True)
class Room:
    """A room as its presenter sees it."""

    id: int
    code: str
    bundle: str
    mode: str
    difficulty: str
    rounds: int
    countdown: int
    phase: str
    current: int
    created_at: float
    presenter_seen_at: float


@dataclass(frozen=True)
class RoundInfo:
    number: int
    difficulty: str
    sentences: list[quiz.Sentence]
    started_at: float | None
    ends_at: float | None
    revealed_at: float | None

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, (self.ends_at or 0.0) - (time.time() if now is None else now))


@dataclass(frozen=True)
class PhoneStatus:
    """What a phone needs each second, from one query: the room's phase and round, and this player."""

    code: str
    phase: str
    current: int
    rounds: int
    presenter_seen_at: float
    expired: bool
    round_started_at: float | None
    ends_at: float | None
    player_id: int | None
    player_joined_at: float | None
    vote: dict | None  # this player's vote in the current round: picked, says_real, confidence, correct, points

    @property
    def joined(self) -> bool:
        return self.player_id is not None

    @property
    def paused_since(self) -> float:
        return self.presenter_seen_at + PRESENTER_AWAY

    def paused(self, now: float) -> bool:
        return now > self.paused_since

    def voting_over(self, now: float) -> bool:
        """The countdown ran out while the room was live (a pause stops the countdown)."""
        return self.ends_at is not None and now > self.ends_at and self.ends_at <= self.paused_since

    def seconds_left(self, now: float) -> float:
        return max(0.0, (self.ends_at or 0.0) - min(now, self.paused_since))

    def voting_open(self, now: float) -> bool:
        """For the room: a round is on, its countdown is running and the room is not paused."""
        return self.phase == ROUND and not self.paused(now) and self.ends_at is not None and now <= self.ends_at

    def can_vote(self, now: float) -> bool:
        """For this player: voting is open, they were in the room when the round began and have not voted."""
        return self.voting_open(now) and self.joined and self.vote is None and self.plays_this_round

    @property
    def plays_this_round(self) -> bool:
        """Late joiners play from the next round on."""
        return (self.player_joined_at is not None and self.round_started_at is not None
                and self.player_joined_at <= self.round_started_at)

    @property
    def ended_early(self) -> bool:
        """The presenter ended the game before its last round."""
        return self.phase == OVER and self.current < self.rounds

    @property
    def ended_when(self) -> str:
        """When a finished game ended: "after round 3 of 5", "before its first round"."""
        return f"after round {self.current} of {self.rounds}" if self.current else "before its first round"

    def where(self) -> str:
        """Where the game is, in a phone's words: "lobby", "round 2 of 5", "ended after round 3 of 5"."""
        if self.phase == OVER:
            return f"ended {self.ended_when}" if self.ended_early else "game over"
        return f"round {self.current} of {self.rounds}" if self.current else "lobby"

    def drawn_for(self, now: float) -> str:
        """What a phone's page is drawn for: when this changes (a new round, the end of its voting, a pause,
        the reveal, the end), the phone redraws. The room's alone, so one reading serves every phone."""
        return (f"{self.phase}/{self.current}/{'open' if self.voting_open(now) else 'closed'}"
                f"/{'paused' if self.paused(now) else 'live'}")


@dataclass(frozen=True)
class Standing:
    rank: int
    player_id: int
    name: str  # "Alice #2" when another player is called Alice too
    points: int
    correct: int
    answered: int


@dataclass(frozen=True)
class SplitRow:
    """How many in the room voted one way with one confidence."""

    choice: str  # "human" / "lstm" (single mode) or "A" / "B" (pair mode: which one is real)
    confidence: str
    votes: int


def difficulty_plan(setting: str, count: int) -> list[str]:
    """The difficulty of each round: one throughout, or MIXED from easy to hard in even blocks."""
    if setting != MIXED:
        return [setting] * count
    names = list(quiz.DIFFICULTIES)
    return [names[i * len(names) // count] for i in range(count)]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _sentences_json(sentences: list[quiz.Sentence]) -> str:
    return json.dumps([{"text": s.text, "real": s.real} for s in sentences])


def _sentences(stored: str) -> list[quiz.Sentence]:
    return [quiz.Sentence(s["text"], bool(s["real"])) for s in json.loads(stored)]


# ---------------------------------------------------------------- the queries phones make

# Built once, run with parameters: SQLAlchemy then reuses the compiled SQL (phones ask every second).
_current_round, _player, _vote = room_rounds.alias("current_round"), room_players.alias("player"), room_votes.alias("vote")
PHONE_STATUS = (
    select(rooms.c.code, rooms.c.phase, rooms.c.current, rooms.c.rounds, rooms.c.created_at,
           rooms.c.presenter_seen_at, _current_round.c.started_at, _current_round.c.ends_at,
           _player.c.id.label("player_id"), _player.c.joined_at, _vote.c.picked, _vote.c.says_real,
           _vote.c.confidence, _vote.c.correct, _vote.c.points)
    .select_from(rooms
                 .outerjoin(_current_round, and_(_current_round.c.room_id == rooms.c.id,
                                                 _current_round.c.number == rooms.c.current))
                 .outerjoin(_player, and_(_player.c.room_id == rooms.c.id, _player.c.token == bindparam("token")))
                 .outerjoin(_vote, and_(_vote.c.round_id == _current_round.c.id, _vote.c.player_id == _player.c.id)))
    .where(rooms.c.code == bindparam("code")))

ROUND_BY_NUMBER = (select(room_rounds).join(rooms, rooms.c.id == room_rounds.c.room_id)
                   .where(rooms.c.code == bindparam("code"), room_rounds.c.number == bindparam("number")))


def typed_parameters(**kinds) -> list:
    """Bound parameters for the SELECT list of an INSERT ... SELECT, each cast to its type (PostgreSQL
    cannot tell the type of a bare parameter there)."""
    return [cast(bindparam(name), kind) for name, kind in kinds.items()]


# A vote is inserted only while its round is open, checked by the insert itself (a reveal or the end of
# the countdown a moment earlier wins); the unique constraint refuses a second vote. A vote is scored as it
# is cast, so one that slips in as a reveal commits still counts (talk_room.py's answers, scored by the
# reveal, also lock the row the reveal closes).
INSERT_VOTE_IF_OPEN = insert(room_votes).from_select(
    ["round_id", "player_id", "picked", "says_real", "confidence", "truth", "guess", "correct", "points", "voted_at"],
    select(room_rounds.c.id, *typed_parameters(
        player_id=Integer, picked=Integer, says_real=Boolean, confidence=String(20), truth=String(10),
        guess=String(10), correct=Boolean, points=Integer, now=Float))
    .select_from(room_rounds.join(rooms, rooms.c.id == room_rounds.c.room_id))
    .where(rooms.c.code == bindparam("code"), room_rounds.c.number == bindparam("number"),
           room_rounds.c.revealed_at.is_(None), room_rounds.c.ends_at >= bindparam("now", type_=Float))
).returning(room_votes.c.id)  # what was inserted (a rowcount is not reported for this on PostgreSQL)


# ---------------------------------------------------------------- the store

class RoomStore(SqlStore):
    """Rooms in one database. Thread-safe: each call takes its own connection."""

    metadata = metadata
    unavailable = RoomUnavailable
    what = "The rooms' database"
    fallback = f"Rooms cannot be played until the host fixes it or points {DATABASE_ENV} elsewhere."

    # ------------------------------------------------------------ the presenter

    def create_room(self, bundle: str, mode: str, difficulty: str, dealt: list[tuple[str, list[quiz.Sentence]]],
                    countdown: int = DEFAULT_COUNTDOWN, now: float | None = None) -> tuple[str, str]:
        """A new room with its rounds dealt: (code, presenter secret). dealt: (difficulty, sentences) per round."""
        if not 1 <= len(dealt) <= MAX_ROUNDS:
            raise RoomError(f"A room plays 1 to {MAX_ROUNDS} rounds.")
        low, high = COUNTDOWN_RANGE
        if not low <= countdown <= high:
            raise RoomError(f"The countdown must be {low} to {high} seconds.")
        now = time.time() if now is None else now
        secret = secrets.token_urlsafe(16)
        for _ in range(20):  # a clash with an existing code is rare (32⁴ codes): draw again
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))

            def make(connection, code=code):
                _forget_expired(connection, now)
                room_id = connection.execute(insert(rooms).values(
                    code=code, secret_hash=_hash(secret), bundle=bundle, mode=mode, difficulty=difficulty,
                    rounds=len(dealt), countdown=countdown, phase=LOBBY, current=0, created_at=now,
                    presenter_seen_at=now)).inserted_primary_key[0]
                connection.execute(insert(room_rounds), [
                    {"room_id": room_id, "number": number, "difficulty": level, "sentences": _sentences_json(sentences)}
                    for number, (level, sentences) in enumerate(dealt, 1)])

            try:
                self._write(make)
                return code, secret
            except RoomUnavailable as e:
                if not isinstance(e.__cause__, IntegrityError):
                    raise
        raise RoomError("No free room code was found; try again.")

    def _room(self, code: str) -> Room:
        rows = self._read(select(rooms).where(rooms.c.code == normalise_code(code)))
        if not rows:
            raise RoomNotFound(f"There is no room {normalise_code(code) or '(empty)'}: check the code on the screen.")
        r = rows[0]
        return Room(r.id, r.code, r.bundle, r.mode, r.difficulty, r.rounds, r.countdown, r.phase, r.current,
                    r.created_at, r.presenter_seen_at)

    def presenter_room(self, code: str, secret: str | None, now: float | None = None) -> Room:
        """The room, if secret is its presenter's; the presenter's page is here now (this is its heartbeat):
        a room paused while the page was away resumes, its countdown where it stopped."""
        now = time.time() if now is None else now
        room = self._room(code)
        stored = self._read(select(rooms.c.secret_hash).where(rooms.c.id == room.id))[0][0]
        if not secret or not hmac.compare_digest(stored, _hash(secret)):
            raise NotPresenter("Only the screen that created this room can run it.")
        paused_at = room.presenter_seen_at + PRESENTER_AWAY
        resume = room.phase == ROUND and now > paused_at

        def check_in(connection):
            connection.execute(update(rooms).where(rooms.c.id == room.id).values(presenter_seen_at=now))
            if resume:  # the countdown gets back the time it had left when the room paused
                left = room_rounds.c.ends_at - paused_at
                connection.execute(update(room_rounds)
                                   .where(room_rounds.c.room_id == room.id, room_rounds.c.number == room.current,
                                          room_rounds.c.ends_at > paused_at)
                                   .values(ends_at=now + left))

        self._write(check_in)
        return Room(**{**room.__dict__, "presenter_seen_at": now})

    def start_round(self, code: str, secret: str, now: float | None = None) -> int:
        """Show the next round and start its countdown; returns its number."""
        now = time.time() if now is None else now
        room = self.presenter_room(code, secret, now)
        if room.phase not in (LOBBY, REVEAL) or room.current >= room.rounds:
            raise RoomError("Reveal this round before starting the next one." if room.phase == ROUND
                            else "There is no round left to start.")
        number = room.current + 1

        def start(connection):
            moved = connection.execute(update(rooms).where(rooms.c.id == room.id, rooms.c.current == room.current,
                                                           rooms.c.phase == room.phase)
                                       .values(phase=ROUND, current=number)).rowcount
            if moved != 1:
                raise RoomError("The room moved on in another window; look again.")
            connection.execute(update(room_rounds).where(room_rounds.c.room_id == room.id,
                                                         room_rounds.c.number == number)
                               .values(started_at=now, ends_at=now + room.countdown))

        self._write(start)
        return number

    def reveal(self, code: str, secret: str, now: float | None = None) -> None:
        """Show the truth of the current round (voting closes if it was still open)."""
        now = time.time() if now is None else now
        room = self.presenter_room(code, secret, now)
        if room.phase != ROUND:
            raise RoomError("There is no round to reveal.")

        def show(connection):
            connection.execute(update(room_rounds).where(room_rounds.c.room_id == room.id,
                                                         room_rounds.c.number == room.current)
                               .values(revealed_at=now,
                                       ends_at=case((room_rounds.c.ends_at > now, now), else_=room_rounds.c.ends_at)))
            connection.execute(update(rooms).where(rooms.c.id == room.id).values(phase=REVEAL))

        self._write(show)

    def finish(self, code: str, secret: str, now: float | None = None) -> None:
        """End the game: the podium and the board."""
        room = self.presenter_room(code, secret, now)
        if room.phase == ROUND:
            self.reveal(code, secret, now)
        self._write(lambda connection: connection.execute(
            update(rooms).where(rooms.c.id == room.id).values(phase=OVER)))

    # ------------------------------------------------------------ phones

    def join(self, code: str, nickname: str, now: float | None = None) -> str:
        """A new player in the room; returns the token the phone keeps to come back as this player."""
        now = time.time() if now is None else now
        nickname = validate_nickname(nickname)
        room = self._room(code)
        if now - room.created_at > ROOM_LIFETIME:
            raise RoomNotFound(f"Room {room.code} has expired: ask for the code on the screen.")
        if room.phase == OVER:
            raise RoomError(f"Room {room.code}'s game is over: play Fake or real? on your own meanwhile.")
        token = secrets.token_urlsafe(16)
        self._write(lambda connection: connection.execute(insert(room_players).values(
            room_id=room.id, nickname=nickname, token=token, joined_at=now)))
        return token

    def phone_status(self, code: str, token: str | None, now: float | None = None) -> PhoneStatus:
        """The room's state and this player's, in one query on indexed columns (phones ask every second)."""
        now = time.time() if now is None else now
        rows = self._read(PHONE_STATUS, code=normalise_code(code), token=token or "")
        if not rows:
            raise RoomNotFound(f"There is no room {normalise_code(code) or '(empty)'}: check the code on the screen.")
        r = rows[0]
        voted = None if r.picked is None else {"picked": r.picked, "says_real": bool(r.says_real),
                                               "confidence": r.confidence, "correct": bool(r.correct),
                                               "points": r.points}
        return PhoneStatus(r.code, r.phase, r.current, r.rounds, r.presenter_seen_at, now - r.created_at > ROOM_LIFETIME,
                           r.started_at, r.ends_at, r.player_id, r.joined_at, voted)

    def player_name(self, code: str, token: str) -> str | None:
        """This player's name as the room's board shows it ("Alice #2"), None for an unknown token."""
        room = self._room(code)
        rows = self._read(select(room_players.c.id, room_players.c.nickname, room_players.c.token)
                          .where(room_players.c.room_id == room.id).order_by(room_players.c.id))
        shown = distinct_names((r.id, r.nickname) for r in rows)
        return next((shown[r.id] for r in rows if r.token == token), None)

    def vote(self, code: str, token: str, number: int, picked: int, says_real: bool, confidence: str,
             now: float | None = None) -> quiz.Answer:
        """Record a player's vote in round `number` (the round their phone shows); refused with a reason
        when it is too late, the room is paused, they joined after the round began or already voted."""
        now = time.time() if now is None else now
        status = self.phone_status(code, token, now)
        if not status.joined:
            raise VoteRefused("This phone is not in the room: join with a nickname first.")
        if status.current != number or status.phase != ROUND:
            raise VoteRefused("Too late: voting on that sentence is over.")
        if status.vote is not None:
            raise VoteRefused("You have already voted on this sentence.")
        if status.voting_over(now):
            raise VoteRefused("Too late: the countdown had ended, so this vote was not counted.")
        if status.paused(now):
            raise VoteRefused("The room is paused (the presenter's screen is away): your vote was not counted.")
        if not status.plays_this_round:
            raise VoteRefused("You joined during this sentence: you play from the next one.")
        round_info = self.round(code, number)
        if confidence not in quiz.POINTS or not 0 <= picked < len(round_info.sentences):
            raise VoteRefused("That is not a valid vote.")
        judged = quiz.Round(round_info.sentences)
        answer = judged.judge(picked, says_real, confidence)
        _, truth, guess = judged.stored_answer()
        try:
            added = self._write(lambda connection: connection.execute(INSERT_VOTE_IF_OPEN, {
                "code": status.code, "number": number, "player_id": status.player_id, "picked": picked,
                "says_real": says_real, "confidence": confidence, "truth": truth, "guess": guess,
                "correct": answer.correct, "points": answer.points, "now": now}).all())
        except RoomUnavailable as e:
            if isinstance(e.__cause__, IntegrityError):
                raise VoteRefused("You have already voted on this sentence.") from e
            raise
        if len(added) != 1:
            raise VoteRefused("Too late: the countdown had ended, so this vote was not counted.")
        return answer

    # ------------------------------------------------------------ what the screens show

    def round(self, code: str, number: int) -> RoundInfo:
        rows = self._read(ROUND_BY_NUMBER, code=normalise_code(code), number=number)
        if not rows:
            raise RoomNotFound(f"Room {normalise_code(code)} has no round {number}.")
        r = rows[0]
        return RoundInfo(r.number, r.difficulty, _sentences(r.sentences), r.started_at, r.ends_at, r.revealed_at)

    def tally(self, code: str, number: int) -> tuple[int, int]:
        """(votes in round `number`, players who can vote in it): what the presenter shows during a round."""
        room = self._room(code)
        this_round = (select(room_rounds.c.id, room_rounds.c.started_at)
                      .where(room_rounds.c.room_id == room.id, room_rounds.c.number == number).subquery())
        votes = select(func.count()).select_from(room_votes).where(room_votes.c.round_id == this_round.c.id)
        players = (select(func.count()).select_from(room_players)
                   .where(room_players.c.room_id == room.id, room_players.c.joined_at <= this_round.c.started_at))
        row = self._read(select(votes.scalar_subquery(), players.scalar_subquery()))[0]
        return int(row[0]), int(row[1])

    def player_count(self, code: str) -> int:
        room = self._room(code)
        return int(self._read(select(func.count()).select_from(room_players)
                              .where(room_players.c.room_id == room.id))[0][0])

    def split(self, code: str, number: int) -> list[SplitRow]:
        """The room's votes in a round by choice and confidence (shown at the reveal)."""
        room = self._room(code)
        choice = (case((room_votes.c.says_real, quiz.HUMAN), else_=quiz.LSTM) if room.mode == "single"
                  else case((room_votes.c.picked == 0, "A"), else_="B"))
        rows = self._read(select(choice.label("choice"), room_votes.c.confidence, func.count().label("votes"))
                          .select_from(room_votes.join(room_rounds, room_rounds.c.id == room_votes.c.round_id))
                          .where(room_rounds.c.room_id == room.id, room_rounds.c.number == number)
                          .group_by(choice, room_votes.c.confidence))
        return [SplitRow(r.choice, r.confidence, int(r.votes)) for r in rows]

    def standings(self, code: str) -> list[Standing]:
        """Every player of the room, best first (points, then right answers); ties share a rank."""
        room = self._room(code)
        points = func.coalesce(func.sum(room_votes.c.points), 0).label("points")
        correct = func.coalesce(func.sum(case((room_votes.c.correct, 1), else_=0)), 0).label("correct")
        rows = self._read(select(room_players.c.id, room_players.c.nickname, points, correct,
                                 func.count(room_votes.c.id).label("answered"))
                          .select_from(room_players.outerjoin(room_votes, room_votes.c.player_id == room_players.c.id))
                          .where(room_players.c.room_id == room.id)
                          .group_by(room_players.c.id, room_players.c.nickname).order_by(room_players.c.id))
        shown = distinct_names((r.id, r.nickname) for r in rows)
        ordered = sorted(rows, key=lambda r: (-r.points, -r.correct, r.id))
        standings, previous = [], None
        for place, r in enumerate(ordered, 1):
            rank = standings[-1].rank if previous == (r.points, r.correct) else place
            standings.append(Standing(rank, r.id, shown[r.id], int(r.points), int(r.correct), int(r.answered)))
            previous = (r.points, r.correct)
        return standings

    def fooled_rate(self, code: str) -> list[FooledRow]:
        """Per difficulty: the votes on fakes, and how many took the fake for human."""
        room = self._room(code)
        fooled = func.sum(case((room_votes.c.guess == quiz.HUMAN, 1), else_=0))
        rows = self._read(select(room_rounds.c.difficulty, func.count().label("judged"), fooled.label("fooled"))
                          .select_from(room_votes.join(room_rounds, room_rounds.c.id == room_votes.c.round_id))
                          .where(room_rounds.c.room_id == room.id, room_votes.c.truth == quiz.LSTM)
                          .group_by(room_rounds.c.difficulty))
        return [FooledRow(r.difficulty, int(r.judged), int(r.fooled or 0)) for r in rows]

    def decks_played(self, code: str) -> list[str]:
        """The difficulties of the rounds that were started, easiest first: the decks the room played."""
        room = self._room(code)
        played = {r.difficulty for r in self._read(select(room_rounds.c.difficulty)
                                                   .where(room_rounds.c.room_id == room.id,
                                                          room_rounds.c.started_at.is_not(None)))}
        return [level for level in quiz.DIFFICULTIES if level in played]

    def room(self, code: str) -> Room:
        return self._room(code)


def _forget_expired(connection, now: float) -> None:
    """Delete the rooms whose code has stopped working (ROOM_LIFETIME), with their rounds, players and
    votes: done when a room is made, so the tables hold about one day of talks."""
    expired = select(rooms.c.id).where(rooms.c.created_at < now - ROOM_LIFETIME).scalar_subquery()
    their_rounds = select(room_rounds.c.id).where(room_rounds.c.room_id.in_(expired)).scalar_subquery()
    connection.execute(delete(room_votes).where(room_votes.c.round_id.in_(their_rounds)))
    connection.execute(delete(room_rounds).where(room_rounds.c.room_id.in_(expired)))
    connection.execute(delete(room_players).where(room_players.c.room_id.in_(expired)))
    connection.execute(delete(rooms).where(rooms.c.id.in_(expired)))


def normalise_code(code: str | None) -> str:
    """What a person typed as a room code, with case and spaces forgiven."""
    return "".join((code or "").split()).upper()[:CODE_LENGTH * 2]
