"""The room's pages in Streamlit's AppTest: a phone joins, waits, votes once; the presenter's screen refuses
anyone without its key. (The browser test, tests/e2e/test_room.py, plays whole rounds with six phones.)"""

import re

import pytest
from streamlit.runtime.context import ContextProxy
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.data.corpus import WIKI
from app.game import quiz
from app.game.room import MIXED, RoomStore
from app.ui import quiz as ui_quiz
from app.ui import room as ui_room
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
    assert all(heading.proto.hide_anchor for heading in [*at.title, *at.header, *at.subheader])  # no #anchor links with the key


def test_the_ballot_spells_out_what_sure_risks_and_the_two_votes_look_different(rooms, room):
    code, secret = room
    token = rooms.join(code, "Alice")
    rooms.presenter_room(code, secret)
    rooms.start_round(code, secret)
    at = phone({"room": code, "player": token})
    assert "**sure**: +2 if right, -3 if wrong" in texts(at) and "**think so**: +1 if right, -1 if wrong" in texts(at)
    css = next(h.value for h in at.get("html") if "<style>" in h.value)
    assert ".st-key-room_human button, .st-key-room_a button {background: #56B4E9;}" in css
    assert ".st-key-room_lstm button, .st-key-room_b button {background: #E69F00;}" in css
    assert "padding-top: 4.5rem" in css  # the title clear of the 60 px header


def played_and_ended_early(rooms, code: str, secret: str) -> str:
    """Ada joins, says "human" (sure) on round 1 (a real sentence: +2), and the presenter ends the game after
    it, one round before the last; returns her token."""
    token = rooms.join(code, "Ada")
    rooms.presenter_room(code, secret)
    rooms.start_round(code, secret)
    rooms.vote(code, token, 1, 0, True, "sure")
    rooms.finish(code, secret)
    return token


def test_a_finished_rooms_address_says_so_at_once_with_its_results(rooms, room, monkeypatch):
    code, secret = room
    token = played_and_ended_early(rooms, code, secret)
    at = phone({"room": code})  # the room's QR code, scanned after the game
    assert not [field for field in at.text_input if field.key == "room_nickname"]  # no nickname to ask for
    said = texts(at)
    assert f"Room {code}'s game is over: the presenter ended it after round 1 of 2." in said
    assert [list(board.value["player"]) for board in at.dataframe] == [["Ada"]]  # the board
    assert "🥇 Ada" in said and "Your place in the room" not in [c.value for c in at.caption]

    # the browser that played here (its cookie from joining) also sees its own place
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda _: {f"atelier_room_{code}": token}))
    at = phone({"room": code})
    assert "Ada: 1st of 1 · 2 points" in texts(at)


def test_a_phone_in_a_game_ended_early_is_told_after_which_round(rooms, room):
    code, secret = room
    token = played_and_ended_early(rooms, code, secret)
    at = phone({"room": code, "player": token})
    said = texts(at)
    assert "round 1 of 2" not in said.replace("after round 1 of 2", "")  # never as if the game went on
    assert f"Ada · room {code} · ended after round 1 of 2" in said
    assert "Game over: the presenter ended it after round 1 of 2. Thanks for playing!" in said
    assert [list(board.value["player"]) for board in at.dataframe] == [["Ada"]]


def test_a_phone_that_joined_after_the_round_is_told_so_not_that_it_did_not_vote(rooms, room):
    code, secret = room
    rooms.join(code, "Ada")
    rooms.presenter_room(code, secret)
    rooms.start_round(code, secret)
    rooms.reveal(code, secret)
    late = rooms.join(code, "Latecomer")
    said = texts(phone({"room": code, "player": late}))
    assert "You joined after this round began: you play from the next one. It was written by a person." in said
    assert "You did not vote" not in said


def test_the_podium_sets_the_room_beside_the_machines_per_deck_in_whole_percents(rooms):
    dealt = [("normal", [quiz.Sentence("a fake one", False)]), ("normal", [quiz.Sentence("another fake", False)]),
             ("hard", [quiz.Sentence("a third fake", False)])]
    code, secret = rooms.create_room("wiki-sample", "single", "mixed", dealt, countdown=60)
    tokens = [rooms.join(code, name) for name in ("Ada", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus")]
    rooms.presenter_room(code, secret)
    for number in (1, 2):  # two normal rounds; the hard one never comes
        rooms.start_round(code, secret)
        for index, token in enumerate(tokens):  # 4 of 7 say "human" in round 1, 0 in round 2: 4 of 14 fooled
            rooms.vote(code, token, number, 0, number == 1 and index < 4, "think so")
        rooms.reveal(code, secret)
    at = presenter({"room": code, "key": secret})
    at.button(key="room_end").click().run()
    said = texts(at)
    assert "Ended after round 2 of 3." in [c.value for c in at.caption]
    line = next(m.value for m in at.markdown if m.value.startswith("**normal** deck: "))
    assert "this room fooled 29% of the time (14 fakes judged)" in line  # 4/14 = 28.57…%: a whole percent
    assert re.search(r"best machine right \d+% \(", line)  # the deck's strongest detector, from its card
    assert not re.search(r"\d\.\d+%", said)
    assert "**hard** deck" not in said  # a deck the room never played
    assert all(heading.proto.hide_anchor for heading in [*at.title, *at.header, *at.subheader])


def test_a_podium_without_a_vote_on_a_fake_says_so_instead_of_an_empty_table(rooms, room):
    code, secret = room  # its two rounds are real sentences
    played_and_ended_early(rooms, code, secret)
    at = presenter({"room": code, "key": secret})
    assert "No one voted on a fake sentence, so there is no rate of how often the room was fooled." in texts(at)
    assert [list(table.value.columns) for table in at.dataframe] == [["#", "player", "points", "right"]]  # the board alone


def test_the_setup_offers_no_difficulty_for_a_model_without_stored_decks_and_says_what_its_fakes_are(rooms, monkeypatch):
    live = quiz.GameSupply(WIKI, models.load_language_model(WIKI), WIKI)  # what a model trained in the app is
    monkeypatch.setattr(live, "warm", lambda: None)  # the set-up alone: no fakes written here
    stored = ui_quiz.supply
    monkeypatch.setattr(ui_quiz, "supply", lambda bundle: live if bundle == WIKI else stored(bundle))
    made = []  # what "Create the room" asks for (dealing live fakes is the quiz tests' business)
    monkeypatch.setattr(ui_room, "create_room", lambda _rooms, *settings: made.append(settings))

    at = presenter({})
    assert not at.exception, at.exception
    at.selectbox(key="room_bundle").set_value(WIKI).run()
    assert "room_difficulty" not in [radio.key for radio in at.radio]
    assert ui_quiz.LIVE_FAKES_NOTE in [caption.value for caption in at.caption]
    next(button for button in at.button if button.label == "Create the room").click().run()
    assert [settings[:2] for settings in made] == [(WIKI, quiz.DEFAULT_DIFFICULTY)]  # one deck of live fakes, not mixed
    code, secret = rooms.create_room(WIKI, "single", quiz.DEFAULT_DIFFICULTY,
                                     [(quiz.DEFAULT_DIFFICULTY, [quiz.Sentence("a live one", False)])], countdown=60)
    room = presenter({"room": code, "key": secret})
    assert f"· {WIKI} · live fakes ·" in room.caption[0].value  # the presenter's screen names no difficulty either
    room.button(key="room_start").click().run()
    assert [header.value for header in room.header] == ["Round 1 of 1 · live fakes"]

    others = [bundle for bundle in at.selectbox(key="room_bundle").options if bundle != WIKI]
    if others:  # a model with stored decks still offers them
        at.selectbox(key="room_bundle").set_value(others[0]).run()
        assert at.radio(key="room_difficulty").options == [*quiz.DIFFICULTIES, MIXED]
        assert ui_quiz.LIVE_FAKES_NOTE not in [caption.value for caption in at.caption]
