"""The room's pages in Streamlit's AppTest: a phone joins, waits, votes once; the presenter's screen refuses
anyone without its key. (The browser test, tests/e2e/test_room.py, plays whole rounds with six phones.)"""

import pytest
from streamlit.testing.v1 import AppTest

from app.game import quiz
from app.game.room import RoomStore
from tests.conftest import ROOT


@pytest.fixture
def rooms(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'rooms.db'}"
    monkeypatch.setenv("ATELIER_DATABASE_URL", url)
    store = RoomStore(url)
    yield store
    store.close()


@pytest.fixture
def room(rooms):
    dealt = [("normal", [quiz.Sentence("a line for the page test", True)]) for _ in range(2)]
    return rooms.create_room("wiki-sample", "single", "normal", dealt, countdown=60)


def open_page(page: str, query: dict) -> AppTest:
    """pages/<page> opened at an address with these query parameters."""
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    at.query_params.update(query)
    return at.run()


def phone(query: dict) -> AppTest:
    return open_page("play.py", query)


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [a.value for a in [*at.info, *at.success, *at.warning, *at.error]])


def test_a_phone_without_a_code_is_asked_for_one_and_a_wrong_code_is_explained(rooms):
    at = phone({})
    assert at.text_input(key="room_code_typed") is not None
    at = phone({"room": "ZZZZ"})
    assert "There is no room ZZZZ" in texts(at)


def test_a_phone_joins_waits_and_votes_once(rooms, room):
    code, secret = room
    at = phone({"room": code})
    at.button(key="room_join").click().run()
    assert at.warning and "nickname" in at.warning[0].value.lower()  # an empty nickname: why, and no player
    assert rooms.player_count(code) == 0

    at.text_input(key="room_nickname").input("<b>Alice</b>")
    at.button(key="room_join").click().run()
    assert at.query_params["player"]  # the token in the address: a reload is the same player
    assert "Waiting for the first sentence" in texts(at)
    assert "&lt;b&gt;Alice&lt;/b&gt;" in texts(at)  # a name is text, never HTML

    rooms.presenter_room(code, secret)
    rooms.start_round(code, secret)
    at.run()  # what the phone's watcher does when the room moves on
    assert "a line for the page test" in texts(at)
    at.button(key="room_lstm").click().run()
    assert "Your vote: 🤖 LSTM" in texts(at)
    assert rooms.tally(code, 1) == (1, 1)
    assert not [button for button in at.button if button.key in ("room_human", "room_lstm")]  # one vote


def presenter(query: dict) -> AppTest:
    return open_page("present.py", query)


def test_only_the_screen_with_the_key_runs_the_room(rooms, room):
    code, secret = room
    token = rooms.join(code, "Mallory")
    for query in ({"room": code}, {"room": code, "key": token}, {"room": code, "key": secret[:-1]}):
        at = presenter(query)
        assert "Only the screen that created this room can run it." in texts(at)
        assert not [button for button in at.button if button.key in ("room_start", "room_reveal")]
    at = presenter({"room": code, "key": secret})
    assert code in texts(at) and "1 joined" in texts(at)
    at.button(key="room_start").click().run()
    assert "a line for the page test" in texts(at)
    assert rooms.presenter_room(code, secret).current == 1


def in_order(node) -> list:
    """Every element under node, in the order the page draws them."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [element for key in sorted(children) for element in in_order(children[key])]


def test_the_reveal_says_which_sentence_was_real_and_puts_the_next_step_first(rooms):
    # (the room audit: "It was sentence A is real.", "Start round 2" below a 1080 px screen, the key in anchors)
    dealt = [("normal", [quiz.Sentence("a fake one", False), quiz.Sentence("a real one", True)]) for _ in range(2)]
    code, secret = rooms.create_room("wiki-sample", "pair", "normal", dealt, countdown=60)
    at = presenter({"room": code, "key": secret})
    at.button(key="room_start").click().run()
    at.button(key="room_reveal").click().run()
    said = texts(at)
    assert "Sentence B was the real one." in said and "It was sentence" not in said
    keys = [getattr(element, "key", None) for element in in_order(at.main)]
    assert keys.index("room_next") < keys.index("room_reveal_by")  # the next step before the long model view
    assert all(heading.proto.hide_anchor for heading in [*at.title, *at.subheader])  # no #anchor links with the key


def test_the_ballot_spells_out_what_sure_risks_and_the_two_votes_look_different(rooms, room):
    code, secret = room
    token = rooms.join(code, "Alice")
    rooms.presenter_room(code, secret)
    rooms.start_round(code, secret)
    at = phone({"room": code, "player": token})
    assert "**sure**: +2 if right, -3 if wrong" in texts(at) and "**think so**: +1 if right, -1 if wrong" in texts(at)
    css = at.get("html")[0].value
    assert ".st-key-room_human button, .st-key-room_a button {background: #56B4E9;}" in css
    assert ".st-key-room_lstm button, .st-key-room_b button {background: #E69F00;}" in css
    assert "padding-top: 4.5rem" in css  # the title clear of the 60 px header
