"""The app's SQL database, shared by the solo leaderboard and the rooms: one engine per URL per process.

A SQLite file by default (``data/atelier.db``, WAL mode so readers never block the writer); any
SQLAlchemy URL via ``ATELIER_DATABASE_URL`` (PostgreSQL when several server processes share the
rooms). Every failure of the database (locked, read-only, corrupt, unreachable) becomes a
``DatabaseUnavailable`` whose message a player can read. ``SqlStore`` is the plumbing the
leaderboard and the rooms share: connect, create the tables, read, write, explain a failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from app import PROJECT

DATABASE_ENV = "ATELIER_DATABASE_URL"
DEFAULT_DATABASE = PROJECT / "data" / "atelier.db"  # data/ is git-ignored
WRITE_ATTEMPTS = 5  # a busy SQLite file is retried this often (on top of its busy timeout)
T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used; str(error) says why in words a player understands."""


def database_url(configured: str | None = None) -> str:
    """The configured URL (argument, then $ATELIER_DATABASE_URL), else the default SQLite file."""
    url = configured or os.environ.get(DATABASE_ENV)
    if url:
        return url
    DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE}"


def make_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """An engine for url; SQLite gets WAL, a busy timeout and connections usable from any thread."""
    if not url.startswith("sqlite"):
        # A room's phones rerun at once from many sessions of one process when a round starts: a roomy pool.
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)
    engine = create_engine(url, pool_size=10, max_overflow=40,
                           connect_args={"timeout": busy_timeout, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer at the same time
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fewer fsyncs
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


_engines: dict[tuple[str, float], Engine] = {}
_engines_lock = threading.Lock()
_sqlite_writers: dict[int, threading.Lock] = {}


def shared_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """One engine (one connection pool) per URL per process, whoever asks for it."""
    with _engines_lock:
        key = (url, busy_timeout)
        if key not in _engines:
            _engines[key] = make_engine(url, busy_timeout)
        return _engines[key]


def one_writer(engine: Engine) -> AbstractContextManager:
    """Held around a write transaction. SQLite lets one writer in at a time and makes the others
    sleep and retry (up to 100 ms a try): queueing the threads of this process here instead lets
    500 votes in one second go through in order, with no sleeping. Other databases: no lock."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _engines_lock:
        return _sqlite_writers.setdefault(id(engine), threading.Lock())


def describe(url: str) -> str:
    """Where the database is, without a password."""
    try:
        return f"({make_url(url).render_as_string(hide_password=True)})"
    except Exception:  # noqa: BLE001 - a URL we cannot even parse is described by its scheme only
        return f"({url.split(':', 1)[0]})"


def explain(error: Exception, url: str, what: str, fallback: str) -> str:
    """A player-readable sentence: what (say "The leaderboard database") failed, why, and what now."""
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        why = "is locked by another program (or too busy right now)"
    elif "readonly" in text or "read-only" in text or "permission" in text:
        why = "is read-only, so nothing can be saved"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = "is damaged (not a readable database file)"
    elif "unable to open" in text:
        why = "cannot be opened (missing folder or no permission)"
    elif any(sign in text for sign in ("connection refused", "could not connect", "timeout expired",
                                        "connection failed", "name or service not known")):
        why = "cannot be reached (is the database server running?)"
    else:
        why = f"failed ({type(error).__name__})"
    return f"{what} {describe(url)} {why}. {fallback}"


def retry_if_locked(attempt: Callable[[], T], error_message: Callable[[Exception], str],
                    attempts: int = WRITE_ATTEMPTS) -> T:
    """Run a write transaction, retrying a busy SQLite file; any other failure raises DatabaseUnavailable."""
    for number in range(attempts):
        try:
            return attempt()
        except SQLAlchemyError as e:
            if "locked" in str(e).lower() and number < attempts - 1:
                time.sleep(0.2 * (number + 1))
                continue
            raise DatabaseUnavailable(error_message(e)) from e
    raise AssertionError("unreachable: the last attempt returns or raises")


class SqlStore:
    """Tables in the app's SQL database. Thread-safe: each call takes its own connection.

    A subclass names its tables (``metadata``), the error it raises (``unavailable``, a
    ``DatabaseUnavailable``) and what a player is told when the database fails (``what`` failed,
    and the ``fallback``: what happens meanwhile)."""

    metadata: MetaData
    unavailable: type[DatabaseUnavailable] = DatabaseUnavailable
    what = "The database"
    fallback = ""

    def __init__(self, url: str | None = None, busy_timeout: float = 30.0):
        self.url = database_url(url)
        try:
            self.engine = shared_engine(self.url, busy_timeout)
            self.metadata.create_all(self.engine)
            self._upgrade()
        except SQLAlchemyError as e:
            raise self.unavailable(self._explain(e)) from e

    def _upgrade(self) -> None:
        """Bring tables made by an older version up to date (called after create_all; nothing by default)."""

    def _explain(self, error: Exception) -> str:
        return explain(error, self.url, self.what, self.fallback)

    def _read(self, query, **params) -> list:
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(query, params))
        except SQLAlchemyError as e:
            raise self.unavailable(self._explain(e)) from e

    def _write(self, work: Callable[..., T]) -> T:
        """work(connection) in one transaction, retried while SQLite is busy."""
        def attempt() -> T:
            with one_writer(self.engine), self.engine.begin() as connection:
                return work(connection)
        try:
            return retry_if_locked(attempt, self._explain)
        except DatabaseUnavailable as e:
            raise self.unavailable(str(e)) from e.__cause__  # the database's own error (IntegrityError…)

    def close(self) -> None:
        self.engine.dispose()
