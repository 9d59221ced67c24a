"""The room leaderboard: nicknames, storage under 30 simultaneous players, broken databases."""

import sqlite3
import threading

import pytest

from app.game.leaderboard import InvalidNickname, Leaderboard, LeaderboardUnavailable, validate_nickname
from app.game.nicknames import distinct_names
from app.game.quiz import Game, Round, Sentence

HOSTILE_NICKNAMES = [
    "<script>alert(1)</script>"[:24],
    "x'); DROP TABLE games;--",
    'Bobby "Tables" O\'Neil',
    "👩‍🎤 Zoë 🧵",
    "שרה כהן",  # Hebrew, right to left
    "مريم ١٢٣",  # Arabic with Arabic digits
    "**bold** [link](javascript:alert(1))"[:24],
]


def played_game(pattern: str = "rrwr", difficulty: str = "normal", mode: str = "single") -> Game:
    """A finished game: r = right, w = wrong; rounds alternate real and fake sentences."""
    rounds = []
    for number, outcome in enumerate(pattern):
        real = number % 2 == 0
        if mode == "pair":
            r = Round([Sentence(f"real sentence {number}", True), Sentence(f"fake sentence {number}", False)])
            r.judge(0 if outcome == "r" else 1, True, "think so")
        else:
            r = Round([Sentence(f"sentence number {number}", real)])
            r.judge(0, real if outcome == "r" else not real, "sure")
        rounds.append(r)
    return Game("wiki-sample", difficulty, mode, rounds)


@pytest.fixture
def board(tmp_path):
    board = Leaderboard(f"sqlite:///{tmp_path / 'room.db'}")
    yield board
    board.close()


@pytest.mark.parametrize("nickname", HOSTILE_NICKNAMES)
def test_hostile_nicknames_are_stored_and_read_back_exactly(board, nickname):
    assert validate_nickname(nickname) == nickname
    board.record_game(played_game(), nickname)
    assert [p.nickname for p in board.board().top] == [nickname]
    assert board.counts() == (1, 4)  # the tables survived the quotes


@pytest.mark.parametrize("nickname, why", [
    ("", "Type a nickname"),
    ("   ", "Type a nickname"),
    ("x" * 25, "limit is 24"),
    ("\u202eevil", "U+202E"),  # right-to-left override: could disguise other rows
    ("tab\there", "U+0009"),
    ("new\nline", "U+000A"),
    ("nul\x00byte", "U+0000"),
])
def test_bad_nicknames_are_refused_with_a_reason(nickname, why):
    with pytest.raises(InvalidNickname, match=why.replace("+", r"\+")):
        validate_nickname(nickname)


def test_nickname_is_trimmed_and_normalised():
    assert validate_nickname("  Zoe\u0301  ") == "Zoé"
    assert validate_nickname("\uff21\uff4c\uff49\uff43\uff45") == "Alice"  # fullwidth letters
    assert validate_nickname("\U0001d400lice") == "Alice"  # mathematical bold A


@pytest.mark.parametrize("look_alike, why", [
    ("Al\u200bice", "U+200B"),  # zero-width space
    ("Ali\u200dce", "U+200D"),  # zero-width joiner between letters (not inside an emoji)
    ("Alice\u2060", "U+2060"),  # word joiner
    ("\ufeffAlice", "U+FEFF"),  # byte-order mark
    ("Alice\u200e", "U+200E"),  # left-to-right mark
    ("\u0410lice", "mixes Cyrillic and Latin"),  # Cyrillic capital A
    ("B\u03bfb", "mixes Greek and Latin"),  # Greek omicron
])
def test_look_alike_nicknames_are_refused(look_alike, why):
    with pytest.raises(InvalidNickname, match=why.replace("+", r"\+")):
        validate_nickname(look_alike)


@pytest.mark.parametrize("nickname", ["Иван Petrov", "やまだ太郎", "Ана-Мария 2", "👨‍👩‍👧 family", "❤️\u200d🔥 fire"])
def test_one_script_per_word_still_allows_every_alphabet(nickname):
    assert validate_nickname(nickname) == nickname


def test_namesakes_are_shown_apart_in_order():
    shown = distinct_names([(7, "Alice"), (3, "Bob"), (9, "alice"), (12, "Alice")])
    assert shown == {7: "Alice", 3: "Bob", 9: "alice #2", 12: "Alice #3"}


def test_games_and_every_answer_are_stored(board):
    game = played_game("rwrw")
    game_id = board.record_game(game, "ada")
    with board.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT round, deck, difficulty, sentence_hash, truth, guess, confidence, points FROM answers "
            "WHERE game_id = ? ORDER BY round", (game_id,)).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert {r[1] for r in rows} == {"wiki-sample"} and {r[2] for r in rows} == {"normal"}
    assert [r[3] for r in rows] == [r.sentences[0].hash for r in game.rounds]
    assert [(r[4], r[5]) for r in rows] == [("human", "human"), ("lstm", "human"), ("human", "human"), ("lstm", "human")]
    assert [r[7] for r in rows] == [2, -3, 2, -3]
    assert board.board().top[0].best_score == -2


def test_the_board_ranks_players_by_best_score(board):
    board.record_game(played_game("wwww"), "low")
    board.record_game(played_game("rrrr"), "high")
    board.record_game(played_game("wwrr"), "high")
    players = board.board().top
    assert [p.nickname for p in players] == ["high", "low"]
    assert players[0].best_score == 8 and players[0].games == 2 and players[0].accuracy == pytest.approx(6 / 8)


def test_fooled_rate_counts_fakes_taken_for_human(board):
    board.record_game(played_game("rwrw", "easy"), "a")  # both fakes taken for human
    board.record_game(played_game("rrrr", "hard"), "b")  # no fake taken for human
    board.record_game(played_game("wr", "hard", mode="pair"), "c")  # pair: picked the fake once
    rates = {row.difficulty: (row.fakes_judged, row.fooled) for row in board.fooled_rate()}
    assert rates == {"easy": (2, 2), "hard": (4, 1)}


def test_thirty_players_finishing_at_once_lose_no_answer(board):
    start = threading.Barrier(30)
    ids, errors = [], []

    def finish(player: int) -> None:
        start.wait()
        try:
            ids.append(board.record_game(played_game("rwrwrwrwrw"), f"player {player}"))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=finish, args=(p,)) for p in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 30
    assert board.counts() == (30, 300)
    assert len(board.board(limit=100).top) == 30


def test_a_locked_database_gives_a_clear_message_and_reads_still_work(tmp_path):
    path = tmp_path / "room.db"
    board = Leaderboard(f"sqlite:///{path}", busy_timeout=0.1)
    board.record_game(played_game(), "before")
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        with pytest.raises(LeaderboardUnavailable, match="locked"):
            board.record_game(played_game(), "during")
        assert [p.nickname for p in board.board().top] == ["before"]  # WAL: reading goes on
    finally:
        holder.rollback()
        holder.close()
    board.record_game(played_game(), "after")
    assert board.counts() == (2, 8)
    board.close()


def test_a_read_only_database_gives_a_clear_message(tmp_path):
    path = tmp_path / "room.db"
    Leaderboard(f"sqlite:///{path}").record_game(played_game(), "ada")
    read_only = Leaderboard(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert [p.nickname for p in read_only.board().top] == ["ada"]
    with pytest.raises(LeaderboardUnavailable, match="read-only"):
        read_only.record_game(played_game(), "grace")


def test_a_corrupt_database_gives_a_clear_message(tmp_path):
    path = tmp_path / "room.db"
    path.write_bytes(b"this is not a database, just bytes\n" * 200)
    with pytest.raises(LeaderboardUnavailable, match="damaged") as error:
        Leaderboard(f"sqlite:///{path}")
    assert "game goes on" in str(error.value)


def test_a_missing_folder_gives_a_clear_message(tmp_path):
    with pytest.raises(LeaderboardUnavailable, match="cannot be opened"):
        Leaderboard(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'room.db'}")


def test_two_players_with_one_nickname_stay_two_rows(board):
    board.record_game(played_game("rrrr"), "Alice", player="browser-1")
    board.record_game(played_game("rrww"), "Alice", player="browser-2")
    board.record_game(played_game("wwww"), "Alice", player="browser-1")  # her second game: still one row
    rows = board.board(player="browser-2")
    assert [(p.rank, p.nickname, p.games) for p in rows.top] == [(1, "Alice", 2), (2, "Alice #2", 1)]
    assert rows.me.nickname == "Alice #2" and rows.players == 2


def test_the_board_ranks_everyone_and_each_player_finds_themselves(board):
    patterns = ["rrrr", "rrrw", "rrwr", "rrww", "rwww", "wwww"]  # scores 8, 3, 3, -2, -7, -12
    for number in range(15):
        board.record_game(played_game(patterns[number % len(patterns)]), f"p{number}", player=f"id{number}")
    board.record_game(played_game("rrrr", "hard"), "hard one", player="id14")  # another difficulty
    normal = board.board("wiki-sample", "normal", player="id14")
    assert len(normal.top) == 10 and normal.players == 15
    assert [p.best_score for p in normal.top] == sorted((p.best_score for p in normal.top), reverse=True)
    assert normal.me.nickname == "p14" and normal.me.best_score == 3
    assert normal.me.rank == 4  # behind the three 8s, tied with the other 3s
    last = board.board("wiki-sample", "normal", player="id5")
    assert last.me.rank == 14 and last.me.best_score == -12  # two players share the lowest score
    hard = board.board("wiki-sample", "hard", player="id14")
    assert hard.players == 1 and hard.me.rank == 1 and hard.me.nickname == "hard one"
    assert board.board("wiki-sample", "easy", player="id14") == type(hard)([], 0, None)


def test_a_database_from_before_player_ids_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE games (id INTEGER PRIMARY KEY, nickname VARCHAR(96) NOT NULL, deck VARCHAR(200) NOT NULL, "
                "difficulty VARCHAR(20) NOT NULL, mode VARCHAR(20) NOT NULL, rounds INTEGER NOT NULL, "
                "correct INTEGER NOT NULL, score INTEGER NOT NULL, started_at DATETIME NOT NULL, "
                "finished_at DATETIME NOT NULL)")
    old.execute("INSERT INTO games VALUES (1, 'ada', 'wiki-sample', 'normal', 'single', 4, 4, 8, "
                "'2026-01-01 10:00:00', '2026-01-01 10:05:00')")
    old.commit()
    old.close()
    board = Leaderboard(f"sqlite:///{path}")
    board.record_game(played_game("wwww"), "ada")  # no player id: grouped with her old game by nickname
    rows = board.board("wiki-sample", "normal")
    assert [(p.nickname, p.best_score, p.games) for p in rows.top] == [("ada", 8, 2)]
    board.close()


def test_the_solo_page_shows_the_top_ten_the_count_and_your_own_rank(tmp_path, monkeypatch):
    """pages/fake_or_real.py's board, for the difficulty picked: 10 rows of 12 players, and the 12th
    player (this browser) told where they stand; another difficulty's game is not on it."""
    from streamlit.testing.v1 import AppTest

    url = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("ATELIER_FASHION_CORPUS", str(tmp_path / "no-fashion.csv"))  # the wiki-sample model only
    monkeypatch.setenv("ATELIER_DATABASE_URL", url)
    board = Leaderboard(url)
    for number in range(12):
        board.record_game(played_game("r" * (12 - number) + "w" * number), f"p{number}", player=f"id{number}")
    board.record_game(played_game("rrrr", "hard"), "hard only", player="id-hard")
    at = AppTest.from_file("../pages/fake_or_real.py", default_timeout=180)
    at.session_state["quiz_player"] = "id11"
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "best score" in d.value.columns)
    assert list(table["#"]) == list(range(1, 11)) and list(table["player"]) == [f"p{n}" for n in range(10)]
    assert any("Top 10 of 12 players. You (p11): 12th of 12" in c.value for c in at.caption)


def test_a_database_server_that_is_down_is_named_as_unreachable():
    """serve.sh's PostgreSQL stopped: the page says the board cannot be reached (the game goes on)."""
    with pytest.raises(LeaderboardUnavailable, match="cannot be reached"):
        Leaderboard("postgresql+psycopg://atelier@127.0.0.1:9/atelier?connect_timeout=2").board(bundle="x")
