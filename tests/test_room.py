"""Room mode's state in SQL (app/game/room.py) on SQLite: the presenter's control, phones, votes, pauses, scale."""

import threading
import time

import pytest
from sqlalchemy import event

from app.game import quiz
from app.game.leaderboard import ordinal
from app.game.nicknames import InvalidNickname
from app.game.room import (
    CODE_ALPHABET,
    LOBBY,
    MIXED,
    OVER,
    PRESENTER_AWAY,
    REVEAL,
    ROOM_LIFETIME,
    ROUND,
    NotPresenter,
    RoomError,
    RoomNotFound,
    RoomStore,
    VoteRefused,
    difficulty_plan,
)

T0 = 1_800_000_000.0  # a fixed clock: every call below says what time it is


def dealt(rounds: int = 3, mode: str = "single", difficulty: str = "normal"):
    """Made-up rounds: odd rounds real, even rounds fake (single mode); A real, B fake (pair mode)."""
    plan = difficulty_plan(difficulty, rounds)
    if mode == "pair":
        return [(plan[n], [quiz.Sentence(f"a true line {n}", True), quiz.Sentence(f"a made-up line {n}", False)])
                for n in range(rounds)]
    return [(plan[n], [quiz.Sentence(f"line number {n}", n % 2 == 0)]) for n in range(rounds)]


@pytest.fixture
def store(tmp_path):
    store = RoomStore(f"sqlite:///{tmp_path / 'rooms.db'}")
    yield store
    store.close()


@pytest.fixture
def room(store):
    code, secret = store.create_room("wiki-sample", "single", "normal", dealt(), countdown=20, now=T0)
    return code, secret


def test_a_room_gets_a_short_readable_code_and_waits_in_the_lobby(store, room):
    code, secret = room
    assert len(code) == 4 and set(code) <= set(CODE_ALPHABET)
    presented = store.presenter_room(code, secret, now=T0 + 1)
    assert (presented.phase, presented.current, presented.rounds, presented.countdown) == (LOBBY, 0, 3, 20)
    assert store.phone_status(code.lower() + " ", None, now=T0 + 1).phase == LOBBY  # typed loosely: still found


def test_only_the_presenter_can_start_reveal_or_end_the_room(store, room):
    code, secret = room
    token = store.join(code, "mallory", now=T0)
    for attempt in (store.start_round, store.reveal, store.finish):
        for wrong in (None, "", token, secret[:-1] + "x"):
            with pytest.raises(NotPresenter, match="Only the screen that created this room"):
                attempt(code, wrong, now=T0 + 1)
    assert store.room(code).phase == LOBBY


def test_a_round_counts_each_vote_once_and_scores_it(store, room):
    code, secret = room
    tokens = [store.join(code, name, now=T0) for name in ("ada", "grace", "alan")]
    assert store.start_round(code, secret, now=T0 + 10) == 1  # round 1: a real sentence
    assert store.phone_status(code, tokens[0], now=T0 + 11).can_vote(T0 + 11)
    assert store.vote(code, tokens[0], 1, 0, True, "sure", now=T0 + 12).points == 2
    assert store.vote(code, tokens[1], 1, 0, False, "think so", now=T0 + 13).points == -1
    with pytest.raises(VoteRefused, match="already voted"):
        store.vote(code, tokens[0], 1, 0, False, "sure", now=T0 + 14)
    assert store.tally(code, 1) == (2, 3)
    status = store.phone_status(code, tokens[0], now=T0 + 14)
    assert status.vote == {"picked": 0, "says_real": True, "confidence": "sure", "correct": True, "points": 2}
    assert not status.can_vote(T0 + 14)

    store.reveal(code, secret, now=T0 + 15)
    assert store.room(code).phase == REVEAL
    assert sorted((r.choice, r.confidence, r.votes) for r in store.split(code, 1)) == [
        ("human", "sure", 1), ("lstm", "think so", 1)]
    with pytest.raises(VoteRefused, match="Too late"):  # alan never voted; the reveal closed the round
        store.vote(code, tokens[2], 1, 0, True, "sure", now=T0 + 16)
    standings = store.standings(code)
    assert [(s.rank, s.name, s.points, s.answered) for s in standings] == [
        (1, "ada", 2, 1), (2, "alan", 0, 0), (3, "grace", -1, 1)]


def test_a_vote_after_the_countdown_or_for_another_round_is_refused(store, room):
    code, secret = room
    token = store.join(code, "slow", now=T0)
    store.start_round(code, secret, now=T0 + 10)  # ends at T0 + 30
    for second in range(11, 31):  # the presenter's page checks in every second
        store.presenter_room(code, secret, now=T0 + second)
    with pytest.raises(VoteRefused, match="Too late: the countdown had ended"):
        store.vote(code, token, 1, 0, True, "sure", now=T0 + 30.5)
    with pytest.raises(VoteRefused, match="Too late"):  # a stale phone voting on an older round
        store.vote(code, token, 0, 0, True, "sure", now=T0 + 12)
    assert store.tally(code, 1) == (0, 1)
    store.reveal(code, secret, now=T0 + 31)
    store.start_round(code, secret, now=T0 + 40)
    with pytest.raises(VoteRefused, match="Too late"):
        store.vote(code, token, 1, 0, True, "sure", now=T0 + 41)
    store.vote(code, token, 2, 0, False, "sure", now=T0 + 41)  # round 2 is fake: right
    assert store.standings(code)[0].points == 2


def test_the_presenter_can_close_voting_early_by_revealing(store, room):
    code, secret = room
    token = store.join(code, "ada", now=T0)
    store.start_round(code, secret, now=T0 + 10)
    store.reveal(code, secret, now=T0 + 12)  # before the countdown (T0 + 30) runs out
    with pytest.raises(VoteRefused, match="Too late"):
        store.vote(code, token, 1, 0, True, "sure", now=T0 + 13)


def test_late_joiners_play_from_the_next_round(store, room):
    code, secret = room
    store.join(code, "early", now=T0)
    store.start_round(code, secret, now=T0 + 10)
    late = store.join(code, "late", now=T0 + 15)
    assert not store.phone_status(code, late, now=T0 + 16).can_vote(T0 + 16)
    with pytest.raises(VoteRefused, match="from the next one"):
        store.vote(code, late, 1, 0, True, "sure", now=T0 + 16)
    assert store.tally(code, 1) == (0, 1)  # the late joiner is not counted as a missing vote either
    store.reveal(code, secret, now=T0 + 20)
    assert not store.phone_status(code, late, now=T0 + 21).plays_this_round  # the reveal: "you joined after…"
    after_the_reveal = store.join(code, "later", now=T0 + 22)
    assert not store.phone_status(code, after_the_reveal, now=T0 + 23).plays_this_round
    store.start_round(code, secret, now=T0 + 25)
    store.vote(code, late, 2, 0, False, "think so", now=T0 + 26)
    assert store.tally(code, 2) == (1, 3)


def test_a_reconnecting_phone_is_the_same_player_and_cannot_vote_twice(store, room):
    code, secret = room
    token = store.join(code, "ada", now=T0)
    store.start_round(code, secret, now=T0 + 10)
    store.vote(code, token, 1, 0, True, "sure", now=T0 + 11)
    again = store.phone_status(code, token, now=T0 + 12)  # the reloaded page asks with its token
    assert again.joined and again.vote["confidence"] == "sure"
    assert store.player_name(code, token) == "ada"
    with pytest.raises(VoteRefused, match="already voted"):
        store.vote(code, token, 1, 0, False, "think so", now=T0 + 13)
    stranger = store.phone_status(code, "not-a-token", now=T0 + 12)
    assert not stranger.joined and not stranger.can_vote(T0 + 12)
    with pytest.raises(VoteRefused, match="join with a nickname"):
        store.vote(code, "not-a-token", 1, 0, True, "sure", now=T0 + 13)


def test_namesakes_stay_two_players_shown_apart(store, room):
    code, _ = room
    first, second = store.join(code, "Alice", now=T0), store.join(code, "Alice", now=T0 + 1)
    assert first != second
    assert store.player_name(code, first) == "Alice" and store.player_name(code, second) == "Alice #2"
    assert sorted(s.name for s in store.standings(code)) == ["Alice", "Alice #2"]
    assert store.player_count(code) == 2


@pytest.mark.parametrize("nickname", ["", "   ", "Al\u200bice", "\u0410lice"])
def test_empty_or_look_alike_nicknames_are_refused(store, room, nickname):
    with pytest.raises(InvalidNickname):
        store.join(room[0], nickname, now=T0)
    assert store.player_count(room[0]) == 0


def test_unknown_expired_and_finished_rooms_say_so(store, room):
    code, secret = room
    with pytest.raises(RoomNotFound, match="There is no room ZZZZ"):
        store.join("ZZZZ", "ada", now=T0)
    with pytest.raises(RoomNotFound, match="no room"):
        store.phone_status("<b>", None, now=T0)
    with pytest.raises(RoomNotFound, match="has expired"):
        store.join(code, "ada", now=T0 + ROOM_LIFETIME + 1)
    assert store.phone_status(code, None, now=T0 + ROOM_LIFETIME + 1).expired
    store.finish(code, secret, now=T0 + 5)
    assert store.room(code).phase == OVER
    with pytest.raises(RoomError, match="game is over"):
        store.join(code, "ada", now=T0 + 6)


def test_a_presenter_who_leaves_pauses_the_room_and_resumes_it(store, room):
    code, secret = room
    token = store.join(code, "ada", now=T0)
    store.start_round(code, secret, now=T0 + 10)  # 20 s: ends at T0 + 30
    store.presenter_room(code, secret, now=T0 + 14)  # the presenter's page checks in, then the tab closes
    away = T0 + 14 + PRESENTER_AWAY + 1
    assert store.phone_status(code, token, now=away).paused(away)
    with pytest.raises(VoteRefused, match="paused"):
        store.vote(code, token, 1, 0, True, "sure", now=away)
    back = T0 + 100  # long after the countdown would have ended
    store.presenter_room(code, secret, now=back)  # reopened with the secret
    status = store.phone_status(code, token, now=back + 1)
    assert not status.paused(back + 1) and status.can_vote(back + 1)
    left_when_paused = (T0 + 30) - (T0 + 14 + PRESENTER_AWAY)
    assert store.round(code, 1).seconds_left(back) == pytest.approx(left_when_paused)
    store.vote(code, token, 1, 0, True, "sure", now=back + 1)
    assert store.tally(code, 1) == (1, 1)


def test_two_rooms_at_once_do_not_mix(store, room):
    code, secret = room
    other, other_secret = store.create_room("wiki-sample", "pair", "hard", dealt(2, "pair", "hard"), now=T0)
    assert other != code
    mine, theirs = store.join(code, "ada", now=T0), store.join(other, "bob", now=T0)
    with pytest.raises(NotPresenter):
        store.start_round(other, secret, now=T0 + 1)  # one room's secret does not run another
    store.start_round(code, secret, now=T0 + 1)
    store.start_round(other, other_secret, now=T0 + 1)
    store.vote(code, mine, 1, 0, True, "sure", now=T0 + 2)
    with pytest.raises(VoteRefused, match="not in the room"):
        store.vote(code, theirs, 1, 0, True, "sure", now=T0 + 2)
    store.vote(other, theirs, 1, 1, True, "think so", now=T0 + 2)  # "B is real": B is the fake
    assert store.tally(code, 1) == (1, 1) and store.tally(other, 1) == (1, 1)
    assert [s.name for s in store.standings(code)] == ["ada"]
    assert [(r.choice, r.votes) for r in store.split(other, 1)] == [("B", 1)]
    assert [(f.difficulty, f.fakes_judged, f.fooled) for f in store.fooled_rate(other)] == [("hard", 1, 1)]


def test_a_whole_mixed_game_ends_with_the_fooled_rate_per_difficulty(store):
    code, secret = store.create_room("wiki-sample", "single", MIXED, dealt(6, difficulty=MIXED), now=T0)
    token = store.join(code, "ada", now=T0)
    for number in range(1, 7):  # fakes are rounds 2 (easy), 4 (normal), 6 (hard); she always says human
        start = T0 + 100 * number
        store.start_round(code, secret, now=start)
        store.vote(code, token, number, 0, True, "think so", now=start + 1)
        store.reveal(code, secret, now=start + 2)
    with pytest.raises(RoomError, match="no round left"):
        store.start_round(code, secret, now=T0 + 1000)
    store.finish(code, secret, now=T0 + 1000)
    assert {f.difficulty: (f.fakes_judged, f.fooled) for f in store.fooled_rate(code)} == {
        "easy": (1, 1), "normal": (1, 1), "hard": (1, 1)}
    assert store.standings(code)[0].points == 3 - 3 and store.standings(code)[0].correct == 3


def test_a_game_ended_early_says_after_which_round_and_which_decks_were_played(store):
    code, secret = store.create_room("wiki-sample", "single", MIXED, dealt(6, difficulty=MIXED), now=T0)
    token = store.join(code, "ada", now=T0)
    assert store.phone_status(code, token, now=T0).where() == "lobby"
    assert store.decks_played(code) == []
    for number in (1, 2, 3):  # easy, easy, normal
        store.start_round(code, secret, now=T0 + 100 * number)
        assert store.phone_status(code, token, now=T0 + 100 * number).where() == f"round {number} of 6"
        store.reveal(code, secret, now=T0 + 100 * number + 5)
    store.finish(code, secret, now=T0 + 400)  # with rounds 4 to 6 (normal, hard, hard) never shown
    status = store.phone_status(code, token, now=T0 + 401)
    assert status.ended_early and status.where() == "ended after round 3 of 6"
    assert store.decks_played(code) == ["easy", "normal"]


def test_a_game_played_to_its_last_round_or_never_started_is_described_as_such(store, room):
    code, secret = room
    store.finish(code, secret, now=T0 + 1)  # from the lobby
    status = store.phone_status(code, None, now=T0 + 2)
    assert status.ended_early and status.where() == "ended before its first round"
    other, other_secret = store.create_room("wiki-sample", "single", "normal", dealt(1), now=T0)
    store.start_round(other, other_secret, now=T0 + 10)
    store.finish(other, other_secret, now=T0 + 20)  # reveals the last round, then the podium
    finished = store.phone_status(other, None, now=T0 + 21)
    assert not finished.ended_early and finished.where() == "game over"


def test_a_phone_learns_the_state_in_one_query(store, room):
    code, secret = room
    token = store.join(code, "ada", now=T0)
    store.start_round(code, secret, now=T0 + 1)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        status = store.phone_status(code, token, now=T0 + 2)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert status.phase == ROUND and status.can_vote(T0 + 2)
    assert len(statements) == 1


def test_five_hundred_votes_in_one_second_are_all_counted(store):
    code, secret = store.create_room("wiki-sample", "single", "normal", dealt(1), countdown=60)
    tokens = [store.join(code, f"phone {n}") for n in range(500)]
    store.start_round(code, secret)
    start, errors, refused = threading.Barrier(500), [], []

    def vote(token: str, n: int) -> None:
        start.wait()
        try:
            store.vote(code, token, 1, 0, n % 3 != 0, "sure")
            store.vote(code, token, 1, 0, True, "sure")  # a double tap: refused
        except VoteRefused as e:
            refused.append(str(e))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=vote, args=(token, n)) for n, token in enumerate(tokens)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    assert errors == []
    assert len(refused) == 500 and all("already voted" in r for r in refused)
    assert store.tally(code, 1) == (500, 500)
    split = {r.choice: r.votes for r in store.split(code, 1)}
    assert split == {"human": 333, "lstm": 167}
    print(f"500 votes (+500 refused double taps) in {seconds:.2f} s")


def test_a_double_tap_from_two_tabs_at_once_counts_once(store, room):
    """The checks before the insert can both pass; the unique constraint still keeps one vote."""
    code, secret = room
    tokens = [store.join(code, f"twin {n}") for n in range(20)]
    store.start_round(code, secret)
    start, outcomes = threading.Barrier(40), []

    def tap(token: str, says_real: bool) -> None:
        start.wait()
        try:
            store.vote(code, token, 1, 0, says_real, "sure")
            outcomes.append("counted")
        except VoteRefused as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=tap, args=(token, side)) for token in tokens for side in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("counted") == 20
    assert outcomes.count("You have already voted on this sentence.") == 20
    assert store.tally(code, 1) == (20, 20)


def test_helpers():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 63, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "14th", "21st", "22nd", "63rd", "101st", "111th"]
    assert difficulty_plan(MIXED, 6) == ["easy", "easy", "normal", "normal", "hard", "hard"]
    assert difficulty_plan(MIXED, 1) == ["easy"] and difficulty_plan("hard", 2) == ["hard", "hard"]


def test_a_new_room_deletes_the_expired_ones_with_everything_in_them(store):
    old_code, old_secret = store.create_room("wiki-sample", "single", "normal", dealt(), countdown=20, now=T0)
    token = store.join(old_code, "Alice", now=T0 + 1)
    store.start_round(old_code, old_secret, now=T0 + 2)
    store.vote(old_code, token, 1, 0, True, "sure", now=T0 + 3)
    kept_code, _ = store.create_room("wiki-sample", "single", "normal", dealt(), countdown=20, now=T0 + 10)
    store.create_room("wiki-sample", "single", "normal", dealt(), countdown=20, now=T0 + ROOM_LIFETIME + 5)
    with pytest.raises(RoomNotFound):
        store.phone_status(old_code, token)
    assert not store.phone_status(kept_code, None, now=T0 + ROOM_LIFETIME + 5).expired  # 10 s younger: kept
    with store.engine.connect() as connection:
        counts = [connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                  for table in ("rooms", "room_rounds", "room_players", "room_votes")]
    assert counts == [2, 6, 0, 0]
