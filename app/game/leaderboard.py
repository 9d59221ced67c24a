"""The solo leaderboard: finished games and every answer, in the app's SQL database (app/game/database.py).

Players are told apart by a player id (one per browser session, kept by the page), not by their
nickname: two "Alice"s are two rows, shown as "Alice" and "Alice #2". The board ranks everyone who
played a bundle (a model) at a difficulty (games of different difficulties are ranked separately); the page
shows the top 10, how many players there are, and where the viewer stands. Every failure of the
database surfaces as ``LeaderboardUnavailable`` with a message a player can read: the game goes on
without the leaderboard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

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
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from app.game.database import DATABASE_ENV, DatabaseUnavailable, SqlStore
from app.game.nicknames import NICKNAME_MAX, InvalidNickname, distinct_names, validate_nickname
from app.game.quiz import HUMAN, LSTM, Game

__all__ = ["DATABASE_ENV", "NICKNAME_MAX", "Board", "FooledRow", "InvalidNickname", "Leaderboard",
           "LeaderboardUnavailable", "PlayerRow", "ordinal", "validate_nickname"]
PLAYER_ID_MAX = 64


class LeaderboardUnavailable(DatabaseUnavailable):
    """The leaderboard's database cannot be used; str(error) says why."""


# ---------------------------------------------------------------- schema

metadata = MetaData()

games = Table(
    "games", metadata,
    Column("id", Integer, primary_key=True),
    Column("player", String(PLAYER_ID_MAX), index=True),  # who played (nickname-based for old rows)
    Column("nickname", String(NICKNAME_MAX * 4), nullable=False),
    # the bundle played; its SQL column keeps the old name "deck" (renaming it would migrate existing databases)
    Column("deck", String(200), nullable=False, key="bundle"),
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
    Column("deck", String(200), nullable=False, key="bundle"),  # the bundle played (SQL name kept, as in games)
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


def nickname_player(nickname: str) -> str:
    """The player id of a game stored without one: its nickname (what the board used to group by)."""
    return f"name:{nickname}"


# ---------------------------------------------------------------- rows the pages show

@dataclass(frozen=True)
class PlayerRow:
    rank: int  # 1 = best; tied players share a rank
    player: str
    nickname: str  # as shown: "Alice #2" when another player is called Alice too
    best_score: int
    games: int
    accuracy: float


@dataclass(frozen=True)
class Board:
    """One bundle and difficulty: the top rows, how many players in all, and the viewer's own row."""

    top: list[PlayerRow]
    players: int
    me: PlayerRow | None


@dataclass(frozen=True)
class FooledRow:
    difficulty: str
    fakes_judged: int
    fooled: int

    @property
    def rate(self) -> float:
        return self.fooled / self.fakes_judged if self.fakes_judged else 0.0


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st: a rank as people say it."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# ---------------------------------------------------------------- the store

class Leaderboard(SqlStore):
    """Games and answers in one database. Thread-safe: each call takes its own connection."""

    metadata = metadata
    unavailable = LeaderboardUnavailable
    what = "The leaderboard database"
    fallback = (f"The game goes on without the leaderboard; the host can fix it or point {DATABASE_ENV} "
                f"to another database.")

    def _upgrade(self) -> None:
        self._add_player_column()

    def _add_player_column(self) -> None:
        """Databases made before players had ids get the column; their games keep their nickname as id."""
        if "player" in {c["name"] for c in inspect(self.engine).get_columns("games")}:
            return
        with self.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE games ADD COLUMN player VARCHAR({PLAYER_ID_MAX})"))
            connection.execute(update(games).values(player="name:" + games.c.nickname))

    def record_game(self, game: Game, nickname: str, player: str | None = None) -> int:
        """Store a finished game and all its answers in one transaction; returns the game id.
        player: who played (the page's id for this browser); None groups the game by its nickname."""
        nickname = validate_nickname(nickname)
        finished_at = max((r.answer.answered_at for r in game.answered), default=time.time())
        game_row = {"player": (player or nickname_player(nickname))[:PLAYER_ID_MAX], "nickname": nickname,
                    "bundle": game.bundle, "difficulty": game.difficulty, "mode": game.mode,
                    "rounds": len(game.answered), "correct": game.correct, "score": game.score,
                    "started_at": _utc(game.started_at), "finished_at": _utc(finished_at)}
        answer_rows, previous = [], game.started_at
        for number, r in enumerate(game.answered, 1):
            sentence, truth, guess = r.stored_answer()
            answer_rows.append({"round": number, "bundle": game.bundle, "difficulty": game.difficulty,
                                "sentence_hash": sentence.hash, "truth": truth, "guess": guess,
                                "confidence": r.answer.confidence, "points": r.answer.points,
                                "seconds": round(r.answer.answered_at - previous, 3),
                                "answered_at": _utc(r.answer.answered_at)})
            previous = r.answer.answered_at

        def write(connection) -> int:
            game_id = connection.execute(insert(games).values(**game_row)).inserted_primary_key[0]
            if answer_rows:
                connection.execute(insert(answers), [{**row, "game_id": game_id} for row in answer_rows])
            return int(game_id)

        return self._write(write)

    def _ranked(self, bundle: str | None, difficulty: str | None):
        """Every player's best score (per bundle and difficulty asked for), ranked: best score first,
        then fewer games (the sharper player); ties share a rank."""
        best = func.max(games.c.score)
        per_player = (select(games.c.player, func.max(games.c.nickname).label("nickname"), best.label("best"),
                             func.count().label("games"), func.sum(games.c.correct).label("correct"),
                             func.sum(games.c.rounds).label("rounds"), func.min(games.c.id).label("first_game"))
                      .group_by(games.c.player))
        if bundle:
            per_player = per_player.where(games.c.bundle == bundle)
        if difficulty:
            per_player = per_player.where(games.c.difficulty == difficulty)
        per_player = per_player.subquery()
        rank = func.rank().over(order_by=(per_player.c.best.desc(), per_player.c.games.asc()))
        return select(per_player, rank.label("rank")).subquery()

    def board(self, bundle: str | None = None, difficulty: str | None = None, player: str | None = None,
              limit: int = 10) -> Board:
        """The top `limit` players, the number of players, and `player`'s own row (wherever it ranks)."""
        ranked = self._ranked(bundle, difficulty)
        top = select(ranked).order_by(ranked.c.rank, ranked.c.first_game).limit(limit)
        everyone = select(func.count()).select_from(ranked)
        try:
            with self.engine.connect() as connection:
                top_rows = list(connection.execute(top))
                count = int(connection.execute(everyone).scalar_one())
                mine = (connection.execute(select(ranked).where(ranked.c.player == player)).first()
                        if player else None)
                same_names = {r.nickname for r in top_rows} | ({mine.nickname} if mine else set())
                # who else is called that, to number the namesakes the same way wherever they are shown
                namesakes = list(connection.execute(
                    select(ranked.c.player, ranked.c.nickname).where(ranked.c.nickname.in_(same_names))
                    .order_by(ranked.c.first_game))) if same_names else []
        except SQLAlchemyError as e:
            raise LeaderboardUnavailable(self._explain(e)) from e
        shown = distinct_names((r.player, r.nickname) for r in namesakes)

        def row(r) -> PlayerRow:
            return PlayerRow(int(r.rank), r.player, shown.get(r.player, r.nickname), int(r.best), int(r.games),
                             (r.correct or 0) / max(1, r.rounds or 0))

        return Board([row(r) for r in top_rows], count, row(mine) if mine else None)

    def fooled_rate(self, bundle: str | None = None) -> list[FooledRow]:
        """Per difficulty: how many fakes the players judged and how many they took for human."""
        fooled = func.sum(case((answers.c.guess == HUMAN, 1), else_=0)).label("fooled")
        query = (select(answers.c.difficulty, func.count().label("judged"), fooled)
                 .where(answers.c.truth == LSTM).group_by(answers.c.difficulty))
        if bundle:
            query = query.where(answers.c.bundle == bundle)
        return [FooledRow(r.difficulty, int(r.judged), int(r.fooled or 0)) for r in self._read(query)]

    def counts(self) -> tuple[int, int]:
        """(games, answers) stored."""
        rows = self._read(select(select(func.count()).select_from(games).scalar_subquery(),
                                 select(func.count()).select_from(answers).scalar_subquery()))
        return int(rows[0][0]), int(rows[0][1])
