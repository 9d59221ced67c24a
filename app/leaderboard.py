"""The room leaderboard: finished games and every answer, in a SQL database through SQLAlchemy 2.

By default a SQLite file (``data/atelier.db``, WAL mode so readers never block the writer);
any SQLAlchemy URL for bigger rooms via ``ATELIER_DATABASE_URL`` (the page also reads it from
Streamlit secrets). Every failure of the database (locked, read-only, corrupt, unreachable)
surfaces as ``LeaderboardUnavailable`` with a message a player can read: the game goes on
without the leaderboard.
"""

from __future__ import annotations

import os
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.quiz import HUMAN, LSTM, Game

DATABASE_ENV = "ATELIER_DATABASE_URL"
DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "data" / "atelier.db"  # data/ is git-ignored
NICKNAME_MAX = 24
WRITE_ATTEMPTS = 5  # a busy SQLite file is retried this often (on top of its busy timeout)


class LeaderboardUnavailable(RuntimeError):
    """The database cannot be used; str(error) says why in words a player understands."""


class InvalidNickname(ValueError):
    pass


# ---------------------------------------------------------------- nicknames

def validate_nickname(raw: str) -> str:
    """The nickname as stored: NFC, trimmed, 1-24 printable characters.

    Any script, emoji (zero-width joiners included) and quotes are fine: the database gets it
    as a bound parameter and the page shows it as text. Control and bidirectional-override
    characters are refused, since they could disguise other rows.
    """
    nickname = unicodedata.normalize("NFC", raw or "").strip()
    if not nickname:
        raise InvalidNickname("Type a nickname (1 to 24 characters).")
    if len(nickname) > NICKNAME_MAX:
        raise InvalidNickname(f"That nickname has {len(nickname)} characters; the limit is {NICKNAME_MAX}.")
    bad = [c for c in nickname if not (c.isprintable() or c == "\u200d")]  # ZWJ glues emoji together
    if bad:
        names = ", ".join(sorted({f"U+{ord(c):04X}" for c in bad}))
        raise InvalidNickname(f"Nicknames can only hold printable characters (not {names}).")
    return nickname


# ---------------------------------------------------------------- schema

metadata = MetaData()

games = Table(
    "games", metadata,
    Column("id", Integer, primary_key=True),
    Column("nickname", String(NICKNAME_MAX * 4), nullable=False),
    Column("deck", String(200), nullable=False),
    Column("difficulty", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("rounds", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)

answers = Table(
    "answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("game_id", Integer, ForeignKey("games.id"), nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("deck", String(200), nullable=False),
    Column("difficulty", String(20), nullable=False),
    Column("sentence_hash", String(64), nullable=False),
    Column("truth", String(10), nullable=False),  # human / lstm
    Column("guess", String(10), nullable=False),  # human / lstm
    Column("confidence", String(20), nullable=False),
    Column("points", Integer, nullable=False),
    Column("seconds", Float),  # time since the previous answer (or the game's start)
    Column("answered_at", DateTime, nullable=False),
)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- the store

def database_url(configured: str | None = None) -> str:
    """The configured URL (argument, then $ATELIER_DATABASE_URL), else the default SQLite file."""
    url = configured or os.environ.get(DATABASE_ENV)
    if url:
        return url
    DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE}"


def _explain(error: Exception, url: str) -> str:
    text = str(error).lower()
    where = _describe(url)
    if "locked" in text or "busy" in text:
        why = "is locked by another program (or too busy right now)"
    elif "readonly" in text or "read-only" in text or "permission" in text:
        why = "is read-only, so scores cannot be saved"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = "is damaged (not a readable database file)"
    elif "unable to open" in text:
        why = "cannot be opened (missing folder or no permission)"
    else:
        why = f"failed ({type(error).__name__})"
    return (f"The leaderboard database {where} {why}. The game goes on without the leaderboard; the host "
            f"can fix it or point {DATABASE_ENV} to another database.")


def _describe(url: str) -> str:
    """Where the database is, without a password."""
    try:
        from sqlalchemy.engine import make_url

        return f"({make_url(url).render_as_string(hide_password=True)})"
    except Exception:  # noqa: BLE001 - a URL we cannot even parse is described by its scheme only
        return f"({url.split(':', 1)[0]})"


@dataclass(frozen=True)
class PlayerRow:
    nickname: str
    best_score: int
    games: int
    accuracy: float


@dataclass(frozen=True)
class FooledRow:
    difficulty: str
    fakes_judged: int
    fooled: int

    @property
    def rate(self) -> float:
        return self.fooled / self.fakes_judged if self.fakes_judged else 0.0


class Leaderboard:
    """Games and answers in one database. Thread-safe: each call takes its own connection."""

    def __init__(self, url: str | None = None, busy_timeout: float = 30.0):
        self.url = database_url(url)
        self.busy_timeout = busy_timeout  # seconds a SQLite writer waits for another one to finish
        try:
            self.engine = self._engine()
            metadata.create_all(self.engine)
        except SQLAlchemyError as e:
            raise LeaderboardUnavailable(_explain(e, self.url)) from e

    def _engine(self) -> Engine:
        if not self.url.startswith("sqlite"):
            return create_engine(self.url, pool_pre_ping=True)
        engine = create_engine(self.url, connect_args={"timeout": self.busy_timeout, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer at the same time
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fewer fsyncs
            cursor.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            cursor.close()

        return engine

    def record_game(self, game: Game, nickname: str) -> int:
        """Store a finished game and all its answers in one transaction; returns the game id."""
        nickname = validate_nickname(nickname)
        finished_at = max((r.answer.answered_at for r in game.answered), default=time.time())
        game_row = {"nickname": nickname, "deck": game.deck, "difficulty": game.difficulty, "mode": game.mode,
                    "rounds": len(game.answered), "correct": game.correct, "score": game.score,
                    "started_at": _utc(game.started_at), "finished_at": _utc(finished_at)}
        answer_rows, previous = [], game.started_at
        for number, r in enumerate(game.answered, 1):
            sentence, truth, guess = r.stored_answer()
            answer_rows.append({"round": number, "deck": game.deck, "difficulty": game.difficulty,
                                "sentence_hash": sentence.hash, "truth": truth, "guess": guess,
                                "confidence": r.answer.confidence, "points": r.answer.points,
                                "seconds": round(r.answer.answered_at - previous, 3),
                                "answered_at": _utc(r.answer.answered_at)})
            previous = r.answer.answered_at
        return self._write(game_row, answer_rows)

    def _write(self, game_row: dict, answer_rows: list[dict]) -> int:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    game_id = connection.execute(insert(games).values(**game_row)).inserted_primary_key[0]
                    if answer_rows:
                        connection.execute(insert(answers), [{**row, "game_id": game_id} for row in answer_rows])
                return int(game_id)
            except SQLAlchemyError as e:
                if "locked" in str(e).lower() and attempt < WRITE_ATTEMPTS - 1:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise LeaderboardUnavailable(_explain(e, self.url)) from e
        raise AssertionError("unreachable: the last attempt returns or raises")

    def top_players(self, limit: int = 10, deck: str | None = None) -> list[PlayerRow]:
        """Best score per nickname, then fewer games (the sharper player) first."""
        best = func.max(games.c.score).label("best")
        query = (select(games.c.nickname, best, func.count().label("games"),
                        func.sum(games.c.correct).label("correct"), func.sum(games.c.rounds).label("rounds"))
                 .group_by(games.c.nickname).order_by(best.desc(), func.count(), games.c.nickname).limit(limit))
        if deck:
            query = query.where(games.c.deck == deck)
        rows = self._read(query)
        return [PlayerRow(r.nickname, int(r.best), int(r.games), (r.correct or 0) / max(1, r.rounds or 0))
                for r in rows]

    def fooled_rate(self, deck: str | None = None) -> list[FooledRow]:
        """Per difficulty: how many fakes the room judged and how many it took for human."""
        fooled = func.sum(case((answers.c.guess == HUMAN, 1), else_=0)).label("fooled")
        query = (select(answers.c.difficulty, func.count().label("judged"), fooled)
                 .where(answers.c.truth == LSTM).group_by(answers.c.difficulty))
        if deck:
            query = query.where(answers.c.deck == deck)
        return [FooledRow(r.difficulty, int(r.judged), int(r.fooled or 0)) for r in self._read(query)]

    def counts(self) -> tuple[int, int]:
        """(games, answers) stored."""
        rows = self._read(select(select(func.count()).select_from(games).scalar_subquery(),
                                 select(func.count()).select_from(answers).scalar_subquery()))
        return int(rows[0][0]), int(rows[0][1])

    def _read(self, query) -> list:
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(query))
        except SQLAlchemyError as e:
            raise LeaderboardUnavailable(_explain(e, self.url)) from e

    def close(self) -> None:
        self.engine.dispose()
