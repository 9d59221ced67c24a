"""The room feed phones wait on (app/game/room_feed.py): what it answers, how often it reads the database,
and its long poll, which answers when the room moves on (a room's waiting phones share one reader). Also
the server set-up it runs under (app/serving/launch.py builds Streamlit's theme message once)."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.requests import Request

from app.game import quiz, room_feed
from app.game.room import PRESENTER_AWAY, RoomStore
from app.game.room_feed import RoomFeed, room_state

T0 = 1_800_000_000.0


@pytest.fixture
def store(tmp_path):
    store = RoomStore(f"sqlite:///{tmp_path / 'rooms.db'}")
    yield store
    store.close()


def made_up(rounds=2):
    return [("normal", [quiz.Sentence(f"line number {n}", True)]) for n in range(rounds)]


def test_the_answer_changes_exactly_when_a_phone_must_redraw(store):
    code, secret = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20, now=T0)
    feed = RoomFeed(store.url)
    assert feed.state(code, T0 + 1) == {"drawn_for": "lobby/0/closed/live", "seconds_left": 0.0}
    store.join(code, "Alice", now=T0 + 1)  # a player joining is not the room moving on
    assert feed.state(code, T0 + 2)["drawn_for"] == "lobby/0/closed/live"

    store.start_round(code, secret, now=T0 + 3)
    assert feed.state(code, T0 + 4) == {"drawn_for": "round/1/open/live", "seconds_left": 19.0}
    for seen in (T0 + 12, T0 + 21):  # the presenter's screen is still there
        store.presenter_room(code, secret, now=seen)
    assert feed.state(code, T0 + 24)["drawn_for"] == "round/1/closed/live"  # the countdown ended
    assert feed.state(code, T0 + 21 + PRESENTER_AWAY + 1)["drawn_for"] == "round/1/closed/paused"
    store.reveal(code, secret, now=T0 + 40)
    assert feed.state(code, T0 + 41)["drawn_for"].startswith("reveal/1/")


def test_unknown_rooms_and_hostile_codes_get_a_reason_not_an_exception(store):
    feed = RoomFeed(store.url)
    assert "no room" in feed.state("ZZZZ")["error"].lower()
    assert "error" in feed.state("<script>" + "x" * 10_000)


def test_many_phones_asking_at_once_cost_one_read_per_tick(store, monkeypatch):
    code, _ = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20, now=T0)
    feed = RoomFeed(store.url)
    reads = []
    real_read = feed._read
    monkeypatch.setattr(feed, "_read", lambda *args: reads.append(args) or real_read(*args))
    for phone in range(100):
        feed.state(code, T0 + 1 + phone * 1e-4)  # 100 phones within 10 ms
    assert len(reads) == 1
    feed.state(code, T0 + 1 + room_feed.FRESH_SECONDS * 2)
    assert len(reads) == 2


def request_for(code: str, drawn_for: str | None = None) -> Request:
    query = f"drawn_for={drawn_for}".encode() if drawn_for else b""
    return Request({"type": "http", "method": "GET", "path": f"/_room/{code}", "path_params": {"code": code},
                    "query_string": query, "headers": []})


def in_own_loop(work):
    """Run a coroutine in an event loop of its own: the browser tests' Playwright runs one in this thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def ask(code: str, drawn_for: str | None = None):
    """The route, called as the server calls it."""
    return in_own_loop(room_state(request_for(code, drawn_for)))


def ask_together(questions: list[tuple[str, str | None, float]]):
    """Several phones asking the route on one server at once: (code, drawn_for, delay before asking)."""
    async def one(code, drawn_for, delay):
        await asyncio.sleep(delay)
        return await room_state(request_for(code, drawn_for))

    async def everyone():
        return await asyncio.gather(*(one(*question) for question in questions))

    return in_own_loop(everyone())


def test_the_route_answers_at_once_when_the_phone_is_out_of_date(store, monkeypatch):
    code, _ = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20)
    monkeypatch.setattr(room_feed, "FEED", RoomFeed(store.url))
    answer = ask(code)
    assert answer.status_code == 200 and b'"drawn_for":"lobby/0/closed/live"' in answer.body
    assert answer.headers["cache-control"] == "no-store"
    started = time.monotonic()
    assert b"lobby/0" in ask(code, "round/1/open/live").body  # a phone drawn for something else: at once
    assert time.monotonic() - started < 1
    assert ask("QQQQ").status_code == 404


def test_the_long_poll_answers_when_the_round_starts(store, monkeypatch):
    code, secret = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20)
    monkeypatch.setattr(room_feed, "FEED", RoomFeed(store.url))
    store.presenter_room(code, secret)
    timer = threading.Timer(0.5, store.start_round, args=(code, secret))
    timer.start()
    started = time.monotonic()
    answer = ask(code, "lobby/0/closed/live")
    waited = time.monotonic() - started
    timer.join()
    assert b'"drawn_for":"round/1/open/live"' in answer.body
    assert 0.4 < waited < 0.5 + 3 * room_feed.FRESH_SECONDS + 0.5


def test_the_long_poll_gives_up_after_its_hold(store, monkeypatch):
    code, _ = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20)
    monkeypatch.setattr(room_feed, "FEED", RoomFeed(store.url))
    monkeypatch.setattr(room_feed, "HOLD_SECONDS", 0.3)
    started = time.monotonic()
    assert b"lobby/0/closed/live" in ask(code, "lobby/0/closed/live").body  # nothing moved: the same answer
    assert 0.3 <= time.monotonic() - started < 2


def test_a_rooms_waiting_phones_share_one_reader_and_all_hear_of_the_change(store, monkeypatch):
    code, secret = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20)
    feed = RoomFeed(store.url)
    monkeypatch.setattr(room_feed, "FEED", feed)
    monkeypatch.setattr(room_feed, "FRESH_SECONDS", 0.2)
    reads = []
    real_read = feed._read
    monkeypatch.setattr(feed, "_read", lambda *args: reads.append(args) or real_read(*args))
    store.presenter_room(code, secret)
    timer = threading.Timer(0.6, store.start_round, args=(code, secret))
    timer.start()
    started = time.monotonic()
    answers = ask_together([(code, "lobby/0/closed/live", 0.0)] * 100)
    waited = time.monotonic() - started
    timer.join()
    assert all(b'"drawn_for":"round/1/open/live"' in answer.body for answer in answers)
    assert len(reads) <= waited / 0.2 + 3  # one reader for the room, not one read per phone per tick


def test_a_page_drawn_after_the_room_moved_on_is_not_told_to_redraw(store, monkeypatch):
    """The feed's last reading is older than a page drawn just after the round started: before telling that
    page it is out of date, the feed reads the room again (and tells the phones that are)."""
    code, secret = store.create_room("wiki-sample", "single", "normal", made_up(), countdown=20)
    monkeypatch.setattr(room_feed, "FEED", RoomFeed(store.url))
    monkeypatch.setattr(room_feed, "FRESH_SECONDS", 60)  # no reads on the reader's own clock in this test
    monkeypatch.setattr(room_feed, "HOLD_SECONDS", 1.0)
    store.presenter_room(code, secret)
    timer = threading.Timer(0.3, store.start_round, args=(code, secret))
    timer.start()
    old_page, new_page = ask_together([(code, "lobby/0/closed/live", 0.0), (code, "round/1/open/live", 0.5)])
    timer.join()
    assert b'"drawn_for":"round/1/open/live"' in old_page.body  # told by the read the new page asked for
    assert b'"drawn_for":"round/1/open/live"' in new_page.body  # its own: held, no redraw


def test_the_theme_message_built_once_is_streamlits_own(monkeypatch):
    """app/serving/launch.py replaces the per-run theme building by a copy: every section copies the same message."""
    from streamlit import config
    from streamlit.proto.NewSession_pb2 import CustomThemeConfig
    from streamlit.runtime import app_session

    from app.serving import launch

    config.get_config_options(force_reparse=True)  # this project's .streamlit/config.toml (cwd is the repo)
    original = app_session._populate_theme_msg
    monkeypatch.setattr(app_session, "_populate_theme_msg", original)
    sections = ["theme", "theme.light", "theme.dark", "theme.sidebar", "theme.light.sidebar", "theme.dark.sidebar"]
    expected = {}
    for section in sections:
        expected[section] = CustomThemeConfig()
        original(expected[section], section)
    assert expected["theme"].primary_color == "#c2185b"  # the project's theme was read

    launch.build_theme_once()
    for _ in range(2):  # the first call builds, the second copies
        for section in sections:
            built = CustomThemeConfig()
            app_session._populate_theme_msg(built, section)
            assert built == expected[section], section
