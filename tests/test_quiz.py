"""Fake or real?: the wiki-sample deck, the fake filters, points, the reveal and full games in AppTest."""

import random
import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import models, quiz
from app.corpus import WIKI, load_corpus, tokenize
from app.highlight import RANK_BUCKETS, pieces_html

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/fake_or_real.py")


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(WIKI)


@pytest.fixture(scope="module")
def deck(corpus):
    return quiz.build_deck(corpus)


@pytest.fixture(scope="module")
def lm():
    return models.load_language_model(WIKI)


@pytest.fixture(scope="module")
def pool(lm, deck):
    """A pool with enough fakes for a pair-mode game (made once for the module)."""
    pool = quiz.FakePool(lm, deck, quiz.DIFFICULTIES["normal"], streams=24, seed=7)
    pool.take(quiz.ROUNDS_PER_GAME, random.Random(0))
    return pool


# ---------------------------------------------------------------- the deck

def test_real_sentences_come_from_the_test_split_in_range_and_unique(corpus, deck):
    assert len(deck.real_sentences) > 200
    assert all(quiz.MIN_WORDS <= len(tokenize(s)) <= quiz.MAX_WORDS for s in deck.real_sentences)
    keys = [" ".join(tokenize(s)) for s in deck.real_sentences]
    assert len(keys) == len(set(keys))
    test_text = " ".join(corpus.split("test"))
    assert all(s in test_text for s in deck.real_sentences[:50])


def test_only_wiki_sample_is_offered_without_the_fashion_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ATELIER_FASHION_CORPUS", str(tmp_path / "missing.csv"))
    playable, notices = quiz.playable_decks(models.language_model_bundles())
    assert playable == [WIKI]
    assert len(notices) == 1 and "ATELIER_FASHION_CORPUS" in notices[0] and "wiki-sample" in notices[0]


# ---------------------------------------------------------------- filters

def test_a_copied_training_sentence_is_rejected(corpus, deck):
    copied = next(s for s in corpus.sentences("train") if 12 <= len(tokenize(s)) <= 25 and s.endswith("."))
    assert quiz.rejection_reason(copied, deck) == "copied"
    # only eight words of it, inside new words, are enough
    words = copied.split()
    assert quiz.rejection_reason("Then " + " ".join(words[:9]) + " again.", deck) == "copied"


def test_each_filter_names_its_reason(deck):
    known = sorted(w for w in deck.training_vocabulary if w.isalpha() and len(w) > 3)[:40]
    fresh = " ".join(known[::4][:10]).capitalize() + "."
    assert quiz.rejection_reason(fresh, deck) is None
    assert quiz.rejection_reason(fresh[:-1], deck) == "unfinished"
    assert quiz.rejection_reason("Too short to count.", deck) == "length"
    assert quiz.rejection_reason(" ".join(known[:31]) + ".", deck) == "length"
    assert quiz.rejection_reason(fresh[:-1] + " blorptastic.", deck) == "unknown_word"


def test_generated_fakes_pass_every_filter_and_counts_add_up(lm, deck):
    counts = quiz.FilterCounts()
    fakes = quiz.generate_fakes(lm, deck, quiz.DIFFICULTIES["easy"], streams=16, seed=3, best_of=2, counts=counts)
    assert fakes and counts.kept == len(fakes)
    assert counts.sampled == counts.unfinished + counts.length + counts.unknown_word + counts.copied + counts.passed
    assert counts.kept == counts.passed // 2
    for fake in fakes:
        assert quiz.rejection_reason(fake.text, deck) is None
        assert not deck.has_copied_span(tokenize(fake.text))
        assert set(tokenize(fake.text)) <= deck.training_vocabulary


def test_best_of_n_keeps_the_likeliest(lm, deck):
    counts = quiz.FilterCounts()
    single = quiz.generate_fakes(lm, deck, quiz.DIFFICULTIES["easy"], streams=16, seed=3, best_of=1, counts=counts)
    best = quiz.generate_fakes(lm, deck, quiz.DIFFICULTIES["easy"], streams=16, seed=3, best_of=2)
    assert best[0].nats_per_char == pytest.approx(min(f.nats_per_char for f in single[:2]))


# ---------------------------------------------------------------- points and games

def test_points_rules():
    assert quiz.points_for(True, "think so") == 1 and quiz.points_for(False, "think so") == -1
    assert quiz.points_for(True, "sure") == 2 and quiz.points_for(False, "sure") == -3
    with pytest.raises(ValueError):
        quiz.points_for(True, "certain")


def test_a_round_is_judged_once():
    r = quiz.Round([quiz.Sentence("a fake", real=False)])
    first = r.judge(0, says_real=False, confidence="sure")
    assert first.correct and first.points == 2
    assert r.judge(0, says_real=True, confidence="sure") is first


def test_pair_rounds_store_what_the_player_made_of_the_fake():
    real, fake = quiz.Sentence("real", True), quiz.Sentence("fake", False)
    fooled = quiz.Round([fake, real])
    fooled.judge(0, True, "think so")
    assert not fooled.answer.correct and fooled.stored_answer() == (fake, quiz.LSTM, quiz.HUMAN)
    spotted = quiz.Round([fake, real])
    spotted.judge(1, True, "sure")
    assert spotted.answer.points == 2 and spotted.stored_answer() == (fake, quiz.LSTM, quiz.LSTM)


def test_new_games_mix_real_and_fake(deck, pool):
    single = quiz.new_game(deck, pool, "single", random.Random(1))
    assert len(single.rounds) == quiz.ROUNDS_PER_GAME
    assert sum(r.sentences[0].real for r in single.rounds) == quiz.ROUNDS_PER_GAME // 2
    pair = quiz.new_game(deck, pool, "pair", random.Random(2))
    assert all(sorted(s.real for s in r.sentences) == [False, True] for r in pair.rounds)
    assert len({r.fake.text for r in pair.rounds}) == quiz.ROUNDS_PER_GAME
    for r in pair.rounds:
        r.judge([s.real for s in r.sentences].index(True), True, "sure")
    assert pair.finished and pair.score == 20 and pair.accuracy == 1.0
    assert [row["points"] for row in pair.summary_rows()] == [2] * 10


# ---------------------------------------------------------------- reveal and meetup

def test_reveal_colours_every_character_and_word(lm):
    text = "The city was <script>founded</script> in 1850."
    shown = quiz.reveal(lm, text)
    assert "".join(p.text for p in shown.by_character) == text
    assert "".join(p.text for p in shown.by_word) == text
    colours = {colour for _, _, colour in RANK_BUCKETS}
    assert {p.colour for p in shown.by_character} <= colours
    assert sum(shown.rank_counts.values()) == len(text)
    assert shown.nats_per_char == pytest.approx(lm.score(text).nats_per_char)
    assert "<script>" not in pieces_html(shown.by_word)


# ---------------------------------------------------------------- the page

@pytest.fixture
def room(monkeypatch, tmp_path):
    """The page on wiki-sample only, with its leaderboard in a fresh SQLite file."""
    database = tmp_path / "room.db"
    monkeypatch.setenv("ATELIER_FASHION_CORPUS", str(tmp_path / "no-fashion.csv"))
    monkeypatch.setenv("ATELIER_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("ATELIER_PUBLIC_URL", "http://10.0.0.7:8501/fake-or-real")
    return database


def table_with(at: AppTest, column: str):
    """The page's dataframe that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def play_to_the_end(at: AppTest) -> int:
    """Answer every round (alternating guesses and confidence); returns the expected score."""
    expected = 0
    for number in range(quiz.ROUNDS_PER_GAME):
        assert f"Round {number + 1} of" in at.get("progress")[0].proto.text
        confidence = quiz.CONFIDENCES[number % 2]
        at.radio(key="quiz_confidence").set_value(confidence)
        pair = at.session_state["quiz_game"].mode == "pair"
        button = ("quiz_a_real" if number % 3 else "quiz_b_real") if pair else ("quiz_human" if number % 3 else "quiz_lstm")
        at.button(key=button).click().run()
        assert not at.exception, at.exception
        answered = at.session_state["quiz_game"].answered[-1]
        expected += quiz.points_for(answered.answer.correct, confidence)
        assert at.success or at.error  # right or wrong, shown at once
        assert any("nats/char" in m.label for m in at.metric)
        at.button(key="quiz_next").click().run()
        assert not at.exception, at.exception
    return expected


def test_a_full_game_scores_and_writes_the_leaderboard(room):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("ATELIER_FASHION_CORPUS" in i.value for i in at.info)
    assert at.selectbox(key="quiz_deck").options == [WIKI]
    at.button(key="quiz_new_game").click().run()
    expected = play_to_the_end(at)

    assert at.subheader[0].value == "Game over"
    assert at.metric[0].value == str(expected)
    at.text_input(key="quiz_nickname").input("bad\u202enick")
    at.button(key="quiz_save").click().run()
    assert any("printable" in w.value for w in at.warning)  # refused, said why, nothing stored
    nickname = "<script>alert(1)</script>"[:24]
    at.text_input(key="quiz_nickname").input(nickname)
    at.button(key="quiz_save").click().run()
    assert not at.exception, at.exception
    assert any("leaderboard" in s.value for s in at.success)

    with sqlite3.connect(room) as db:
        assert db.execute("SELECT nickname, score, rounds FROM games").fetchall() == [(nickname, expected, 10)]
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (10,)
    board = table_with(at, "player")
    assert list(board["player"]) == [nickname]  # a dataframe shows it as text
    assert not any("<script>" in m.value for m in at.markdown)


def test_pair_mode_and_several_players_in_one_room(room):
    sessions = [AppTest.from_file(PAGE, default_timeout=180).run() for _ in range(3)]
    for number, at in enumerate(sessions):
        at.radio(key="quiz_mode").set_value("pair" if number == 0 else "single")
        at.radio(key="quiz_difficulty").set_value(["easy", "normal", "hard"][number]).run()
        at.button(key="quiz_new_game").click().run()
    for number, at in enumerate(sessions):
        play_to_the_end(at)
        at.text_input(key="quiz_nickname").input(f"player {number} 🧵")
        at.button(key="quiz_save").click().run()
        assert not at.exception, at.exception
    with sqlite3.connect(room) as db:
        assert db.execute("SELECT count(*), sum(rounds) FROM games").fetchone() == (3, 30)
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (30,)
        assert {m for (m,) in db.execute("SELECT mode FROM games")} == {"pair", "single"}
    sessions[0].run()
    assert set(table_with(sessions[0], "fooled")["difficulty"]) == {"easy", "normal", "hard"}


def test_a_corrupt_database_is_reported_and_the_game_goes_on(room):
    room.write_bytes(b"garbage, not SQLite\n" * 100)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("damaged" in w.value for w in at.warning)
    at.button(key="quiz_new_game").click().run()
    play_to_the_end(at)
    assert at.subheader[0].value == "Game over"
    assert any("game goes on" in w.value for w in at.warning)


def test_meetup_mode_shows_a_qr_code_of_the_public_address(room):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.toggle(key="quiz_meetup").set_value(True).run()
    assert not at.exception, at.exception
    images = at.get("image")
    assert images and re.search(r"10\.0\.0\.7:8501", str(images[0].proto))
