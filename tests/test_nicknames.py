"""Nicknames that could pass for another player: the app's own " #2" cannot be typed, and a name that is
too long (a paste, say) is refused with the reason on the phone, not dropped without a word."""

import pytest
from streamlit.testing.v1 import AppTest

from app.game import quiz
from app.game.nicknames import NICKNAME_MAX, InvalidNickname, distinct_names, validate_nickname
from app.game.room import RoomStore
from tests.conftest import ROOT


@pytest.mark.parametrize("typed", ["Alice #2", "Alice#2", "Alice # 12", "Alice ＃2", "Alice ﹟3", "Alice ♯2",
                                   "Alice ⌗2", "Alice #٢", "#7"])
def test_a_typed_name_cannot_end_like_the_boards_namesake_mark(typed):
    with pytest.raises(InvalidNickname, match="the board adds “#2”, “#3”") as refused:
        validate_nickname(typed)
    assert "Try “" in str(refused.value)  # and what to type instead


def test_the_refusal_suggests_the_name_without_the_sign():
    with pytest.raises(InvalidNickname, match="Try “Alice2”"):
        validate_nickname("Alice #2")


@pytest.mark.parametrize("typed", ["Alice 2", "R2D2", "#1 fan", "Team #2 rocks", "مريم ١٢٣", "C#"])
def test_numbers_and_number_signs_elsewhere_are_fine(typed):
    assert validate_nickname(typed) == typed


def test_no_typed_name_looks_like_a_namesake_on_the_board():
    """Two "Alice"s and a third: every name the board shows apart is one that nobody can type."""
    shown = distinct_names([(1, "Alice"), (2, "Alice"), (3, "alice")])
    assert shown == {1: "Alice", 2: "Alice #2", 3: "alice #3"}
    for name in (shown[2], shown[3]):
        with pytest.raises(InvalidNickname):
            validate_nickname(name)


def test_a_long_name_is_refused_with_its_length_and_the_limit():
    with pytest.raises(InvalidNickname, match=f"has 31 characters; the limit is {NICKNAME_MAX}"):
        validate_nickname("A" * 31)


@pytest.fixture
def room_code(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'rooms.db'}"
    monkeypatch.setenv("ATELIER_DATABASE_URL", url)
    rooms = RoomStore(url)
    dealt = [("normal", [quiz.Sentence("a line for the nickname test", True)])]
    code, _ = rooms.create_room("wiki-sample", "single", "normal", dealt, countdown=60)
    yield code, rooms
    rooms.close()


def join_as(code: str, nickname: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "play.py"), default_timeout=60)
    at.query_params["room"] = code
    at.run()
    at.text_input(key="room_nickname").input(nickname)
    at.button(key="room_join").click().run()
    return at


def test_a_pasted_name_over_the_limit_reaches_the_server_and_is_refused_with_the_reason(room_code):
    code, rooms = room_code
    box = AppTest.from_file(str(ROOT / "pages" / "play.py"), default_timeout=60)
    box.query_params["room"] = code
    box.run()
    assert not box.text_input(key="room_nickname").proto.max_chars  # the browser would drop it without a word
    at = join_as(code, "Anastasia Alexandrovna Petrova")
    messages = " ".join(m.value for m in [*at.warning, *at.error])
    assert f"has 30 characters; the limit is {NICKNAME_MAX}" in messages
    assert rooms.player_count(code) == 0 and "player" not in at.query_params


def test_a_phone_cannot_join_as_another_players_namesake(room_code):
    code, rooms = room_code
    assert join_as(code, "Alice").query_params["player"]
    at = join_as(code, "Alice #2")
    assert "cannot end in “#2”" in " ".join(m.value for m in [*at.warning, *at.error])
    assert rooms.player_count(code) == 1
