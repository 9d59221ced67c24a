"""Fake or real?: real sentences, the fake filters, the stored decks and how they were chosen, dealing,
points, the reveal and full games in AppTest. Real data: wiki-sample (always there) and the fashion
corpus when present."""

import json
import random
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.data.corpus import FASHION, WIKI, load_corpus, normalise, tokenize
from app.game import decks, detectors, fakes, quiz
from app.lessons.highlight import RANK_BUCKETS, pieces_html
from app.ui import quiz as ui_quiz

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/fake_or_real.py")


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(WIKI)


@pytest.fixture(scope="module")
def training(corpus):
    return fakes.TrainingText.of(corpus)


@pytest.fixture(scope="module")
def lm():
    return models.load_language_model(WIKI)


@pytest.fixture(scope="module")
def reals(corpus):
    return decks.real_sentences(corpus, "test")


# ---------------------------------------------------------------- real sentences

def test_real_sentences_are_whole_test_split_sentences_as_the_source_writes_them(corpus, reals):
    assert len(reals) > 200
    assert all(fakes.MIN_WORDS <= len(tokenize(s)) <= fakes.MAX_WORDS for s in reals)
    assert all(fakes.is_complete_sentence(s) for s in reals)  # never cut mid-word
    keys = [fakes.sentence_key(s) for s in reals]
    assert len(keys) == len(set(keys))
    test_text = " ".join(normalise(d) for d in corpus.split("test"))
    assert all(s in test_text for s in reals)  # verbatim: first letter cased as in the source
    train_text = " ".join(corpus.split("train"))
    assert sum(s in train_text for s in reals[:100]) <= 2  # from the split the LM never saw


def test_only_wiki_sample_is_offered_without_the_fashion_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ATELIER_FASHION_CORPUS", str(tmp_path / "missing.csv"))
    playable, notices = quiz.playable_bundles(models.language_model_bundles())
    assert playable == [WIKI]
    assert len(notices) == 1 and "ATELIER_FASHION_CORPUS" in notices[0] and "wiki-sample" in notices[0]


# ---------------------------------------------------------------- filters and sampling

def test_a_copied_training_sentence_is_rejected(corpus, training):
    copied = next(s for s in corpus.sentences("train") if 12 <= len(tokenize(s)) <= 25 and s.endswith("."))
    assert fakes.rejection_reason(copied, training) == "copied"
    # only eight words of it, inside new words, are enough
    words = copied.split()
    assert fakes.rejection_reason("Then " + " ".join(words[:9]) + " again.", training) == "copied"
    # a short training sentence has no 8-word span: as a whole, it is recited all the same
    short = next(s for s in corpus.sentences("train") if 5 <= len(tokenize(s)) <= 7 and s.endswith("."))
    assert fakes.rejection_reason(short, training) == "copied"
    assert fakes.rejection_reason("Then " + short, training) != "copied"


def test_each_filter_names_its_reason(training):
    known = sorted(w for w in training.vocabulary if w.isalpha() and len(w) > 3)[:40]
    fresh = " ".join(known[::4][:10]).capitalize() + "."
    assert fakes.rejection_reason(fresh, training) is None
    assert fakes.rejection_reason(fresh[:-1], training) == "unfinished"
    assert fakes.rejection_reason("Too short.", training) == "length"
    assert fakes.rejection_reason(" ".join(known[:31]) + ".", training) == "length"
    assert fakes.rejection_reason(fresh[:-1] + " blorptastic.", training) == "unknown_word"


def test_sampled_sentences_pass_every_filter_and_counts_add_up(lm, training):
    counts = fakes.FilterCounts()
    written = fakes.sample_sentences(lm, training, streams=16, seed=3, counts=counts)
    assert written and counts.passed == len(written)
    assert counts.sampled == counts.unfinished + counts.length + counts.unknown_word + counts.copied + counts.passed
    for text in written:
        assert fakes.rejection_reason(text, training) is None
        assert set(tokenize(text)) <= training.vocabulary


def test_batched_scores_equal_one_at_a_time(lm, reals):
    texts = reals[:5] + ["x", "Émoji 🧵 and <b>tags</b>."]
    for batched, text in zip(lm.score_batch(texts, batch_size=3), texts, strict=True):
        single = lm.score(text)
        assert batched.text == text
        assert np.allclose(batched.log_probs, single.log_probs, atol=1e-4)
        assert (batched.ranks == single.ranks).all()


# ---------------------------------------------------------------- the stored decks

@pytest.mark.parametrize("bundle", [WIKI, FASHION])
def test_every_committed_lm_has_stored_decks_chosen_with_it(bundle):
    stored = decks.load_stored_decks(bundle)  # checksum-verified; None if chosen with another LM
    assert stored is not None, f"retrain the decks: python -m app.training --corpus {bundle} --only decks"
    assert set(stored.decks) == set(quiz.DIFFICULTIES)
    for difficulty in stored.decks:
        texts = stored.texts(difficulty)
        assert len(texts) >= decks.MIN_DECK_SIZE
        assert len({fakes.sentence_key(t) for t in texts}) == len(texts), f"{difficulty}: a fake twice"
        metrics = stored.metrics[difficulty]
        assert metrics["fakes"] == len(texts) and set(detectors.DETECTORS) <= set(metrics["detectors"])


def stored_deck_against_reals(bundle: str):
    corpus = load_corpus(bundle)
    return decks.load_stored_decks(bundle), corpus, decks.real_sentences(corpus, "test")


def surface_rates(texts: list[str]) -> dict[str, float]:
    """Shares of sentences with each surface habit a reader sees."""
    words = [len(tokenize(t)) for t in texts]
    ends = [t.rstrip("\"')]")[-1] for t in texts]
    rates = {f"{low}-{high} words": np.mean([low <= n <= high for n in words])
             for low, high in ((5, 8), (9, 11), (12, 15), (16, 20), (21, 30))}
    rates |= {f"ends with {e}": np.mean([end == e for end in ends]) for e in ".!?"}
    return rates | {"first letter upper": np.mean([t[0].isupper() for t in texts]),
                    "has a digit": np.mean([any(c.isdigit() for c in t) for t in texts]),
                    "has an apostrophe": np.mean(["'" in t for t in texts])}


def assert_decks_match_people(stored, corpus, reals, lm, surprise_within: float = 0.05):
    """Each deck against the real sentences it deals beside its fakes (its lengths). Nucleus
    samples are likelier than people's sentences; their decks match the whole profile as well as
    the candidates allow (the project-LM detector's figure says how well: test below)."""
    training = fakes.TrainingText.of(corpus)
    for difficulty in stored.decks:
        texts, played = stored.texts(difficulty), stored.reals(difficulty, reals)
        low, high = stored.words.get(difficulty, (fakes.MIN_WORDS, fakes.MAX_WORDS))
        assert all(low <= len(tokenize(t)) <= high for t in texts + played)
        assert all(fakes.rejection_reason(t, training) is None for t in texts)  # memorisation 0%, filters hold
        assert not {fakes.sentence_key(t) for t in texts} & {fakes.sentence_key(r) for r in reals}
        real_rates = surface_rates(played)
        for habit, rate in surface_rates(texts).items():
            assert abs(rate - real_rates[habit]) <= 0.06, f"{difficulty}: {habit} {rate:.1%} vs {real_rates[habit]:.1%}"
        if difficulty != "easy":  # the likelihood-matched decks are as surprising to the model as people's sentences
            surprise = np.mean([stored.nats_per_char[i] for i in stored.decks[difficulty]])
            assert abs(surprise - decks.average_nats_per_char(lm, played, limit=400)) < surprise_within, difficulty


def test_wiki_decks_pass_the_filters_and_match_peoples_surface_habits(lm):
    assert_decks_match_people(*stored_deck_against_reals(WIKI), lm)


def test_fashion_decks_pass_the_filters_and_match_peoples_surface_habits(fashion_csv):
    # top-p 0.8 decks beside the real sentences they chose: both about 0.8 nats/char (docs/fakes.md)
    assert_decks_match_people(*stored_deck_against_reals(FASHION), models.load_language_model(FASHION))


def assert_detector_figures_recomputed(bundle: str, corpus, writer: str = decks.CHAR_LSTM):
    """The manifest's char n-gram and length figures for a hard deck, measured again on the reals
    it deals (for a deck that chose its reals: the ones it chose, found again by their digests)."""
    stored = decks.load_stored_decks(bundle, writer)
    fakes_dealt = stored.texts("hard")
    matched = detectors.matched_reals(fakes_dealt, stored.reals("hard", decks.real_sentences(corpus, "test")))
    n = min(len(fakes_dealt), len(matched))
    texts, labels = fakes_dealt[:n] + matched[:n], np.r_[np.zeros(n), np.ones(n)]
    figures = stored.metrics["hard"]["detectors"]
    char = detectors.cross_validated(texts, labels, text={"analyzer": "char", "ngram_range": (1, 4)})
    length = detectors.cross_validated(detectors.length_statistics(texts), labels)
    assert char.accuracy == pytest.approx(figures["char n-grams"], abs=1e-4)
    assert length.accuracy == pytest.approx(figures["length"], abs=1e-4)


def test_reported_detector_figures_are_recomputed_from_the_stored_deck(corpus):
    assert_detector_figures_recomputed(WIKI, corpus)


@pytest.mark.parametrize("writer", [decks.CHAR_LSTM, decks.WORD_LSTM])
def test_the_fashion_decks_figures_are_recomputed_from_the_reals_they_chose(fashion_csv, writer):
    corpus = load_corpus(FASHION)
    stored = decks.load_stored_decks(FASHION, writer)
    played = stored.reals("hard", decks.real_sentences(corpus, "test"))
    # every real sentence the deck chose is a test sentence it plays: none lost, none edited
    assert len(played) == len(stored.real_digests["hard"]) > decks.MIN_DECK_SIZE / 2
    assert_detector_figures_recomputed(FASHION, corpus, writer)


@pytest.mark.parametrize("writer", [decks.CHAR_LSTM, decks.WORD_LSTM])
def test_the_fashion_decks_meet_the_detectability_goals(writer):
    """On the figures stored with the fashion decks (docs/fakes.md's table): every detector at most 60%
    on normal and 58% on hard (issue 24's goals)."""
    figures = decks.load_stored_decks(FASHION, writer).metrics
    assert max(figures["normal"]["detectors"].values()) <= 0.60
    assert max(figures["hard"]["detectors"].values()) <= 0.58
    assert max(figures["easy"]["detectors"].values()) > max(figures["hard"]["detectors"].values())  # names fit


def synthetic_side(rng, n: int, shift: float) -> dict:
    """Features of n sentences of 5-8 words whose log-prob mean is drawn from N(shift, 1)."""
    surface = np.zeros((n, len(decks.SURFACE)))
    surface[:, 0] = rng.integers(5, 9, n)
    return {"surface": surface, "profile": rng.normal(shift, 1.0, (n, len(decks.PROFILE)))}


@pytest.mark.parametrize("travel", [1.0, 0.5, 0.0])
def test_fakes_and_reals_meet_where_the_plan_says(travel):
    """People's sentences at N(1, 1), the writer's at N(0, 1): the fakes are drawn towards people by
    ``fakes_travel``, the reals the deck deals towards the fakes by the rest, and both land near
    N(travel, 1) (the geometric mixture). Dealt reals are test sentences, weighed by a ratio fitted
    on validation sentences only."""
    rng = np.random.default_rng(0)
    validation, candidates, test = synthetic_side(rng, 3000, 1.0), synthetic_side(rng, 6000, 0.0), synthetic_side(rng, 3000, 1.0)
    plan = decks.DeckPlan(fakes.NUCLEUS, (5, 8), ("likelihood",), fakes_travel=travel)
    picked, dealt = decks.choose(validation, candidates, plan, size=600, played=test)
    assert len(picked) == pytest.approx(600, abs=60) and len(set(picked)) == len(picked)
    fake_mean, real_mean = candidates["profile"][picked, 0].mean(), test["profile"][dealt, 0].mean()
    assert fake_mean == pytest.approx(travel, abs=0.15)
    if travel == 1.0:
        assert sorted(dealt) == list(range(3000))  # every real sentence of the deck's lengths
    else:
        assert len(dealt) == pytest.approx(1500, abs=100) and real_mean < 1.0 - (1.0 - travel) / 2  # the plainer half, towards the fakes
    assert decks.choose(validation, candidates, plan, size=600)[1] is None  # no test sentences, none dealt


def test_a_plan_that_matches_style_deals_the_reals_written_like_its_fakes():
    """People write "really" in half their sentences, the writer never: a deck that matches style
    (t = 0) deals mostly the real sentences without it. Every other feature is the same noise."""
    rng = np.random.default_rng(1)
    nouns, adjectives = ["dress", "top", "skirt", "coat", "blouse"], ["soft", "warm", "long", "light", "cute"]

    def side(n: int, really_share: float) -> dict:
        texts = [f"the {rng.choice(nouns)} is {'really ' if rng.random() < really_share else ''}{rng.choice(adjectives)} "
                 f"and {rng.choice(adjectives)}." for _ in range(n)]
        surface = np.zeros((n, len(decks.SURFACE)))
        surface[:, 0] = rng.integers(5, 9, n)
        return {"surface": surface, "profile": rng.normal(0, 1, (n, len(decks.PROFILE))), "texts": texts}

    validation, candidates, test = side(1500, 0.5), side(3000, 0.0), side(1500, 0.5)
    plan = decks.DeckPlan(fakes.NUCLEUS, (5, 8), ("likelihood", "style"), fakes_travel=0.0)
    dealt = decks.choose(validation, candidates, plan, size=600, played=test)[1]
    share = np.mean(["really" in test["texts"][i] for i in dealt])
    assert len(dealt) == pytest.approx(750, abs=60) and share < 0.2  # half of the test sentences: the plain ones
    plain = decks.DeckPlan(fakes.NUCLEUS, (5, 8), ("likelihood",), fakes_travel=0.0)
    assert np.mean(["really" in test["texts"][i] for i in decks.choose(validation, candidates, plain, 600, played=test)[1]]) > 0.35


def test_a_deck_that_chose_its_reals_deals_only_those():
    sentences = [f"this is real sentence number {n}." for n in range(10)]
    chosen = frozenset(decks.real_digest(s) for s in sentences[:4])
    stored = decks.StoredDecks(decks.CHAR_LSTM, "sha", [], [], {"hard": [], "easy": []}, None, {},
                               {"hard": (5, 8), "easy": (5, 8)}, real_digests={"hard": chosen})
    assert stored.reals("hard", sentences) == sentences[:4]
    assert stored.reals("easy", sentences) == sentences  # a deck that chose none plays them all
    assert all(len(d) == 16 and sentences[0] not in d for d in chosen)  # a digest, never the text


# ---------------------------------------------------------------- dealing

def test_a_dealer_never_repeats_within_a_deal_and_spreads_consecutive_deals():
    dealer = decks.Dealer(list(range(23)), seed=1)
    first = [dealer.deal(5) for _ in range(4)]  # 20 of 23: all different
    assert len({i for deal in first for i in deal}) == 20
    for _ in range(50):  # across the end of each shuffled order too
        deal = dealer.deal(7)
        assert len(set(deal)) == 7
    with pytest.raises(ValueError):
        dealer.deal(24)


def test_games_deal_from_the_stored_deck_without_repeats(lm):
    supply = quiz.GameSupply.of(WIKI, lm)
    assert supply.stored, "wiki-sample has stored decks"
    hard = set(supply.stored[decks.CHAR_LSTM].texts("hard"))
    seen = []
    for number in range(40):
        game = supply.deal_game("hard", "single", random.Random(number))
        assert len(game.rounds) == quiz.ROUNDS_PER_GAME and game.bundle == WIKI and game.difficulty == "hard"
        dealt = [s for r in game.rounds for s in r.sentences]
        assert sum(s.real for s in dealt) == quiz.ROUNDS_PER_GAME // 2
        game_fakes = [s.text for s in dealt if not s.real]
        assert len(set(game_fakes)) == len(game_fakes) and set(game_fakes) <= hard
        seen += game_fakes
    assert len(set(seen)) == len(seen) == 200  # 40 games in a row: no fake dealt twice
    pair = supply.deal_game("normal", "pair", random.Random(1))
    assert all(sorted(s.real for s in r.sentences) == [False, True] for r in pair.rounds)
    with pytest.raises(ValueError):
        supply.deal_game("impossible", "single", random.Random(1))


def test_reals_are_dealt_as_long_as_the_fakes_from_what_the_deck_plays(lm):
    supply = quiz.GameSupply.of(WIKI, lm)
    stored = supply.stored[decks.CHAR_LSTM]
    for difficulty in decks.PLANS:
        low, high = stored.words.get(difficulty, (fakes.MIN_WORDS, fakes.MAX_WORDS))
        for number in range(5):
            pair = supply.deal_game(difficulty, "pair", random.Random(number))
            for r in pair.rounds:
                real, fake = sorted(r.sentences, key=lambda s: not s.real)
                assert low <= len(tokenize(real.text)) <= high
                assert abs(len(tokenize(real.text)) - len(tokenize(fake.text))) <= 1, (real.text, fake.text)


def test_a_matched_dealer_deals_the_nearest_lengths_without_repeats():
    reals = [" ".join(["word"] * (n - 1)) + f" {i}." for n in (5, 6, 9) for i in range(3)]  # n words
    dealer = decks.MatchedDealer(reals, seed=0)
    dealt = dealer.deal_like(["a b c d e f."] * 4 + ["one two three four five six seven eight nine ten."])
    assert len(set(dealt)) == 5
    # the three of 6 words, then the nearest length left (5 before 7), and 9 for the 10-word fake
    assert [len(tokenize(r)) for r in dealt] == [6, 6, 6, 5, 9]
    with pytest.raises(ValueError):
        dealer.deal_like(["x y z."] * 10)


def test_a_word_lstm_deck_deals_only_reals_inside_its_vocabulary(fashion_csv):
    stored = decks.load_stored_decks(FASHION, decks.WORD_LSTM)
    assert stored.vocabulary, "the word LSTM's decks name its vocabulary"
    played = stored.reals("normal", decks.real_sentences(load_corpus(FASHION), "test"))
    assert played and all(w in stored.vocabulary for r in played for w in tokenize(r))


def test_a_model_without_stored_decks_writes_its_fakes_live(lm, corpus):
    supply = quiz.GameSupply("user/live", lm, WIKI)  # no stored decks: the FakePool writes them
    game = supply.deal_game("normal", "single", random.Random(3))
    written = [s.text for r in game.rounds for s in r.sentences if not s.real]
    training = fakes.TrainingText.of(corpus)
    assert len(written) == 5 and all(fakes.rejection_reason(t, training) is None for t in written)


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


def test_new_games_mix_real_and_fake():
    reals = [f"real {i}." for i in range(10)]
    written = [f"fake {i}." for i in range(10)]
    single = quiz.build_game(reals[:5], written[:5], "single", random.Random(1), bundle=WIKI)
    assert len(single.rounds) == quiz.ROUNDS_PER_GAME
    assert sum(r.sentences[0].real for r in single.rounds) == quiz.ROUNDS_PER_GAME // 2
    pair = quiz.build_game(reals, written, "pair", random.Random(2))
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


def headings(at: AppTest) -> list[str]:
    """The page's section headings (h2, drawn by ui_quiz.section_heading)."""
    return [re.sub(r"<[^>]+>", "", m.value) for m in at.markdown if m.value.startswith("<h2")]


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
    assert at.selectbox(key="quiz_bundle").options == [WIKI]
    at.button(key="quiz_new_game").click().run()
    expected = play_to_the_end(at)

    assert "Game over" in headings(at)
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
    fooled = table_with(sessions[0], "fooled")
    assert set(fooled["difficulty"]) == {"easy", "normal", "hard"}
    # rates in whole percents (57%, never 57.14%): whole numbers, shown with a "%" and no decimals
    for column in ("fooled", "machine fooled", "machine accuracy"):
        assert all(float(value).is_integer() and 0 <= value <= 100 for value in fooled[column]), fooled[column]
    shown_as = json.loads(next(d for d in sessions[0].dataframe if "fooled" in d.value.columns).proto.columns)
    assert {name: config["type_config"]["format"] for name, config in shown_as.items() if "type_config" in config} == {
        "fooled": "%d%%", "machine fooled": "%d%%", "machine accuracy": "%d%%"}


def test_a_corrupt_database_is_reported_and_the_game_goes_on(room):
    room.write_bytes(b"garbage, not SQLite\n" * 100)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("damaged" in w.value for w in at.warning)
    at.button(key="quiz_new_game").click().run()
    play_to_the_end(at)
    assert "Game over" in headings(at)
    assert any("game goes on" in w.value for w in at.warning)


def test_meetup_mode_shows_a_qr_code_of_the_public_address(room):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.toggle(key="quiz_meetup").set_value(True).run()
    assert not at.exception, at.exception
    images = at.get("image")
    assert images and re.search(r"10\.0\.0\.7:8501", str(images[0].proto))


def test_a_model_without_stored_decks_offers_no_difficulty_and_says_what_its_fakes_are(room, lm, monkeypatch):
    live = quiz.GameSupply(WIKI, lm, WIKI)  # what a model trained in the app is: no stored decks
    monkeypatch.setattr(live, "warm", lambda: None)  # the page's settings alone: no fakes written here
    monkeypatch.setattr(ui_quiz, "supply", lambda bundle: live)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert "quiz_difficulty" not in [radio.key for radio in at.radio]
    assert ui_quiz.LIVE_FAKES_NOTE in [caption.value for caption in at.caption]
    assert "written live as you play" in ui_quiz.LIVE_FAKES_NOTE
    assert f"10 rounds · {WIKI} · live fakes · " in " ".join(caption.value for caption in at.caption)
    assert f"The room · {WIKI} · live fakes" in headings(at)
    assert not any(word in " ".join(c.value for c in at.caption) for word in ("easy", "hard"))
