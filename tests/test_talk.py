"""Talk mode: the talk file (broken ones explained by line), each beat kind's points, the SQL state, and the
stage, speaker, phone and results pages in AppTest for every beat kind of the default talk: the room's words in
the 3D cloud, a phone's sentence through the gates, the results page, and a phone rejoining by its code."""

import csv
import io
import json
import os
import re
import threading

import pytest
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.game import quiz
from app.game.database import shared_engine
from app.game.room import NotPresenter, RoomError, VoteRefused
from app.game.room import metadata as room_tables
from app.game.room_feed import RoomFeed
from app.game.talk import (
    CBOW_NOTE,
    CHOICE,
    DEFAULT_TALK,
    DEMO,
    ESTIMATE,
    FAKE_OR_REAL,
    FED_VIEWS,
    KINDS,
    SENTENCE_MAX,
    SLIDE,
    WORD_GUESS,
    TalkError,
    check_answer,
    load_talk,
    model_answer,
    normalise_answer,
    parse_talk,
    score_answers,
)
from app.game.talk_room import ASK, BLANK, QR, REVEALED, TalkStore, rejoin_code
from app.game.talk_room import metadata as talk_tables
from app.ui.stage import CLOUD_WORDS
from app.vectors.embeddings import Embeddings
from tests.conftest import ROOT

GOOD = '''title = "A test talk"

[[beats]]
kind = "slide"
text = "Hello $x^2$"

[[beats]]
kind = "choice"
text = "Pick"
options = ["a", "b", "c"]
answer = 2
'''


# ---------------------------------------------------------------- the file

def test_the_default_talk_reads_and_has_every_beat_kind():
    talk = load_talk(DEFAULT_TALK)
    assert talk.title == "Recurrent Neural Networks for NLP"
    assert {beat.kind for beat in talk.beats} == set(KINDS)
    assert [beat.number for beat in talk.beats] == list(range(1, len(talk.beats) + 1))


def test_a_good_file_gives_beats_with_their_lines_and_settings():
    talk = parse_talk(GOOD)
    assert [(b.kind, b.line) for b in talk.beats] == [(SLIDE, 3), (CHOICE, 7)]
    assert talk.beats[1].settings["answer"] == 1  # 1-based in the file, an index here


@pytest.mark.parametrize(("text", "says"), [
    ('title = "x"\n\n[[beats]]\nkind = "slide"\ntext = "unclosed\n', "line 5: not valid TOML"),
    ('[[beats]]\nkind = "slide"\ntext = "ok"\n\n[[beats]]\nkind = "poem"\ntext = "x"\n',
     "line 5: beat 2: unknown kind 'poem'"),
    ('[[beats]]\nkind = "slide"\n', "line 1: beat 1: it has no text"),
    ('[[beats]]\nkind = "choice"\ntext = "x"\noptions = ["only one"]\n', "options must list 2 to 4"),
    ('[[beats]]\nkind = "choice"\ntext = "x"\noptions = ["a", "b"]\nanswer = 3\n', "answer must be the number"),
    ('[[beats]]\nkind = "estimate"\ntext = "x"\nmin = 10\nmax = 1\nanswer = 5\n', "min (10) must be below max (1)"),
    ('[[beats]]\nkind = "estimate"\ntext = "x"\nmin = 0\nmax = 1\n', "answer must be a number and is missing"),
    ('[[beats]]\nkind = "word_guess"\ntext = "x"\ntask = "neighbours"\nword = "a"\n', "models must list"),
    ('[[beats]]\nkind = "word_guess"\ntext = "x"\ntask = "guess"\n', "unknown task 'guess'"),
    ('[[beats]]\nkind = "demo"\ntext = "x"\nview = "tv"\n', "unknown view 'tv'"),
    ('[[beats]]\nkind = "demo"\ntext = "x"\nview = "explorer"\nmodels = "glove"\n', "models must list"),
    ('[[beats]]\nkind = "demo"\ntext = "x"\nview = "gates"\nsentence = "' + "a" * 81 + '"\n',
     "its sentence has 81 characters; the limit is 80"),
    ('[[beats]]\nkind = "slide"\ntext = 3\n', "text must be text in quotes"),
    ('title = "nothing"\n', "no beats"),
    ('[[beats]]\nkind = "fake_or_real"\ntext = "x"\nrounds = 6\n\n[[beats]]\nkind = "fake_or_real"\ntext = "y"\n'
     'rounds = 6\n', "line 6: beat 2: the talk's Fake-or-real beats hold 10 rounds in all"),
])
def test_a_broken_file_names_the_line_and_the_problem(text, says):
    with pytest.raises(TalkError) as error:
        parse_talk(text, "broken.toml")
    assert str(error.value).startswith("broken.toml")
    assert says in str(error.value)


def test_an_unreadable_file_is_a_talk_error(tmp_path):
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(TalkError, match="cannot be read"):
        load_talk(tmp_path / "bad.toml")


# ---------------------------------------------------------------- answers and points

def word_beat(top_k=5, answers=("blahnik", "saiz")):
    return parse_talk('[[beats]]\nkind = "word_guess"\ntext = "x"\ntask = "fixed"\n'
                      f'top_k = {top_k}\nanswers = {list(answers)!r}\n'.replace("'", '"')).beats[0]


def test_typed_words_are_normalised_like_nicknames():
    assert normalise_answer("  ＢＬＡＨＮＩＫ! ") == "blahnik"  # NFKC full-width letters, case, punctuation
    assert normalise_answer("bla\u200bhnik") == "blahnik"  # no invisible characters
    assert check_answer(word_beat(), "Blahnik") == "blahnik"
    with pytest.raises(ValueError, match="at most 40"):
        check_answer(word_beat(), "x" * 41)
    with pytest.raises(ValueError, match="Type a word"):
        check_answer(word_beat(), "  ")


def test_word_guess_points_go_to_the_models_top_k_by_rank():
    beat = word_beat(top_k=2)
    assert score_answers(beat, {1: "blahnik", 2: "saiz", 3: "shoes"}) == {1: 3, 2: 2, 3: 0}
    # the model's own ranking wins over the file's
    assert score_answers(beat, {1: "blahnik", 2: "saiz"}, ["saiz", "x", "blahnik"]) == {1: 0, 2: 3}


def test_a_phones_sentence_for_the_gates_is_plain_text_and_short():
    gates = next(b for b in load_talk().beats if b.settings.get("view") == "gates")
    assert gates.asks and gates.takes_sentence and not gates.takes_words and not gates.scores
    # NFKC, invisible and control characters out, spaces as one; case and HTML kept (the stage escapes it)
    assert check_answer(gates, " ＴＨＥ  fit\u200b is\n<b>great</b> ") == "THE fit is <b>great</b>"
    assert check_answer(gates, "x" * SENTENCE_MAX) == "x" * SENTENCE_MAX
    with pytest.raises(ValueError, match=f"at most {SENTENCE_MAX} characters"):
        check_answer(gates, "x" * (SENTENCE_MAX + 1))
    with pytest.raises(ValueError, match="Type a sentence"):
        check_answer(gates, "\u200b \t")
    cloud = next(b for b in load_talk().beats if b.settings.get("view") == "explorer")
    assert cloud.asks and cloud.takes_words and check_answer(cloud, " Silk! ") == "silk"
    assert score_answers(cloud, {1: "silk"}) == {1: 0} and "No points" in cloud.stakes


def test_choice_points_go_to_the_right_tile_and_a_poll_scores_nothing():
    beat = parse_talk(GOOD).beats[1]
    assert score_answers(beat, {1: "1", 2: "0"}) == {1: 2, 2: 0}
    poll = parse_talk('[[beats]]\nkind = "choice"\ntext = "x"\noptions = ["a", "b"]\n').beats[0]
    assert score_answers(poll, {1: "1", 2: "0"}) == {1: 0, 2: 0}
    with pytest.raises(ValueError, match="not one of the tiles"):
        check_answer(beat, "3")


def test_the_closest_estimates_win():
    beat = parse_talk('[[beats]]\nkind = "estimate"\ntext = "x"\nmin = 0\nmax = 100\nanswer = 10\n').beats[0]
    assert score_answers(beat, {1: "12", 2: "8", 3: "30", 4: "50"}) == {1: 3, 2: 3, 3: 1, 4: 0}
    with pytest.raises(ValueError, match="from 0 to 100"):
        check_answer(beat, "101")


def test_slides_demos_and_rounds_score_nothing_here():
    talk = load_talk()
    for beat in talk.beats:
        if beat.kind in (SLIDE, DEMO, FAKE_OR_REAL) and not beat.asks:
            assert score_answers(beat, {1: "x"}) == {1: 0}
            with pytest.raises(ValueError):
                check_answer(beat, "x")


def available():
    return [m.key for m in models.embedding_models()] + models.language_model_bundles()


def test_the_models_answer_from_stored_vectors():
    talk = load_talk()
    manolo = next(b for b in talk.beats if b.settings.get("word") == "manolo")
    said = model_answer(manolo, models.load_embeddings, models.load_language_model, available())
    assert said["model"] == "glove" and "blahnik" in said["words"]
    cbow = next(b for b in talk.beats if b.settings.get("task") == "cbow")
    said = model_answer(cbow, models.load_embeddings, models.load_language_model, available())
    assert len(said["words"]) == 5 and CBOW_NOTE in said["note"] and "talk" not in said["words"]
    # a model the server lacks: the next one; none at all: the file's answers, said so
    missing = word_beat()
    missing.settings.update(task="neighbours", word="dress", models=["no-such/cbow"])
    said = model_answer(missing, models.load_embeddings, models.load_language_model, available())
    assert said["words"] == ["blahnik", "saiz"] and "the talk file's answers" in said["note"]


# ---------------------------------------------------------------- SQL state

@pytest.fixture
def talks(tmp_path, monkeypatch):
    """A talk store in a new SQLite file; with $ATELIER_TEST_DATABASE_URL set (a throwaway PostgreSQL, say),
    in that database instead, on tables made afresh."""
    url = os.environ.get("ATELIER_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'talks.db'}"
    talk_tables.drop_all(shared_engine(url))
    room_tables.drop_all(shared_engine(url))
    monkeypatch.setenv("ATELIER_DATABASE_URL", url)
    store = TalkStore(url)
    yield store
    store.close()


@pytest.fixture
def talk_room(talks):
    dealt = [("normal", [quiz.Sentence(f"a sentence for round {n}", n % 2 == 0)]) for n in range(3)]
    code, secret = talks.create_room("wiki-sample", "single", "mixed", dealt, countdown=60)
    talks.start_talk(code, secret, DEFAULT_TALK.name)
    return code, secret


def beat_of(kind, **settings):
    return next(b for b in load_talk().beats if b.kind == kind and all(b.settings.get(k) == v for k, v in settings.items()))


def test_answers_once_per_beat_scored_at_the_reveal_and_kept_on_rejoin(talks, talk_room):
    code, secret = talk_room
    talk, choice = load_talk(), beat_of(CHOICE)
    alice, bob = talks.join(code, "Alice"), talks.join(code, "Bob")
    with pytest.raises(VoteRefused, match="closed"):
        talks.answer(code, alice, choice, "0")  # the talk is on beat 1
    talks.go_to(code, secret, talk, choice.number)
    assert talks.answer(code, alice, choice, "0") == "0"
    talks.answer(code, bob, choice, "2")
    with pytest.raises(VoteRefused, match="already answered"):
        talks.answer(code, alice, choice, "1")
    with pytest.raises(NotPresenter):
        talks.reveal_beat(code, alice, choice)
    assert talks.reveal_beat(code, secret, choice) == {1: 2, 2: 0}
    with pytest.raises(VoteRefused, match="closed"):
        talks.answer(code, talks.join(code, "Late"), choice, "0")
    assert talks.progress(code).phase == REVEALED
    assert talks.talk_standings(code)[0] == (1, "Alice", 2)
    assert talks.place(code, alice) == (1, 3, 2)  # the same token after a reload: the same score
    # back and forth keeps it revealed; a reveal again never counts twice
    talks.go_to(code, secret, talk, choice.number - 1)
    assert talks.go_to(code, secret, talk, choice.number) == choice.number
    assert talks.progress(code).phase == REVEALED
    talks.reveal_beat(code, secret, choice)
    assert talks.talk_points(code)[1] == 2


def test_an_answer_sent_during_the_reveal_is_refused_rather_than_never_scored(talks, talk_room, monkeypatch):
    """The reveal closes the beat, reads its answers and scores them in one transaction: a phone answering
    meanwhile waits for it and is told it is too late (it used to be stored and never scored)."""
    code, secret = talk_room
    choice = beat_of(CHOICE)
    early, late = talks.join(code, "Early"), talks.join(code, "Late")
    talks.go_to(code, secret, load_talk(), choice.number)
    talks.answer(code, early, choice, "0")
    # The late phone goes through another engine, as from another server process: the database's lock must
    # keep it out, not this process's queue of SQLite writers (one_writer, one per engine).
    other_process = TalkStore(talks.url, busy_timeout=29.0)
    phones, said = [], []

    def answer_late():
        try:
            said.append(other_process.answer(code, late, choice, "0"))
        except VoteRefused as refused:
            said.append(str(refused))

    def score_while_a_phone_answers(*args):
        phones.append(threading.Thread(target=answer_late))
        phones[-1].start()
        # Unlocked, the late answer is stored well within this wait; locked, the phone waits for the reveal
        # to commit however long this is.
        phones[-1].join(timeout=1.0)
        return score_answers(*args)

    monkeypatch.setattr("app.game.talk_room.score_answers", score_while_a_phone_answers)
    assert talks.reveal_beat(code, secret, choice) == {1: 2}
    for phone in phones:
        phone.join()
    other_process.close()
    assert said == ["Too late: the answers to that question are closed."]
    assert [(a.name, a.points) for a in talks.answers(code, choice.number)] == [("Early", 2)]


def test_the_speaker_hides_an_answer_from_the_stage_and_the_csv_has_every_answer(talks, talk_room):
    code, secret = talk_room
    guess = beat_of(WORD_GUESS, task="neighbours", word="manolo")
    talks.go_to(code, secret, load_talk(), guess.number)
    for name, word in (("Alice", "Blahnik"), ("Bob", "<script>x</script>"), ("Cy", "blahnik")):
        talks.answer(code, talks.join(code, name), guess, word)
    assert talks.counts(code, guess.number)[0] == ("blahnik", 2)
    rude = next(a for a in talks.answers(code, guess.number) if a.name == "Bob")
    talks.hide_answer(code, secret, rude.id)
    assert [answer for answer, _ in talks.counts(code, guess.number)] == ["blahnik"]
    talks.reveal_beat(code, secret, guess, {"words": ["saiz", "blahnik"], "note": ""})
    talks.go_to(code, secret, load_talk(), 1)
    talks.go_to(code, secret, load_talk(), guess.number)  # back on it later: the model's answer is still there
    assert talks.progress(code).model_answers == {"words": ["saiz", "blahnik"], "note": ""}
    rows = list(csv.DictReader(io.StringIO(talks.answers_csv(code, load_talk()))))
    assert [(r["player"], r["answer"], r["points"], r["hidden"]) for r in rows] == [
        ("Alice", "blahnik", "2", ""), ("Bob", "<script>x</script>", "0", "yes"), ("Cy", "blahnik", "2", "")]


def test_the_stage_screen_toggles_and_the_talk_resumes_after_a_reload(talks, talk_room):
    code, secret = talk_room
    talks.go_to(code, secret, load_talk(), 3)
    talks.show(code, secret, QR)
    assert talks.progress(code).screen == QR
    talks.show(code, secret, QR)  # Q again: back to the beat
    talks.show(code, secret, BLANK)
    assert talks.progress(code).screen == BLANK
    again = TalkStore(talks.url)  # another process of serve.sh, or a reloaded page
    assert (again.progress(code).beat, again.progress(code).phase) == (3, ASK)


def test_the_room_feed_tells_phones_when_the_talk_moves_on(talks, talk_room):
    code, secret = talk_room
    feed = RoomFeed(talks.url)
    assert feed.state(code, 1.0)["drawn_for"].endswith("/talk1/ask")
    talks.go_to(code, secret, load_talk(), 2)
    assert feed.state(code, 2.0)["drawn_for"].endswith("/talk2/ask")  # read again after FRESH_SECONDS


def test_a_phone_finds_its_own_answer_and_place_among_many_players(talks, talk_room):
    code, secret = talk_room
    talk, choice, guess = load_talk(), beat_of(CHOICE), beat_of(WORD_GUESS, task="neighbours", word="manolo")
    tokens = [talks.join(code, f"Player {n}") for n in range(40)] + [talks.join(code, "Player 0")]  # a namesake
    talks.go_to(code, secret, talk, choice.number)
    for n, token in enumerate(tokens):
        if n % 5:  # every fifth player leaves this one unanswered
            talks.answer(code, token, choice, str(n % 4))
    for n, token in enumerate(tokens):
        mine = talks.player_answer(code, token, choice.number)
        assert (mine is None) if n % 5 == 0 else (mine.answer, mine.points) == (str(n % 4), None)
    assert talks.player_answer(code, tokens[1], guess.number) is None  # another beat's: none yet
    assert talks.player_answer(code, "not-a-token", choice.number) is None
    assert talks.player_answer(code, tokens[1], choice.number).name == "Player 1"

    talks.reveal_beat(code, secret, choice)  # the right tile scores: many players tie, and share a place
    talks.go_to(code, secret, talk, guess.number)
    for n, token in enumerate(tokens[:10]):
        talks.answer(code, token, guess, ["blahnik", "saiz", "boots"][n % 3])
    talks.reveal_beat(code, secret, guess, {"words": ["saiz", "blahnik"], "note": ""})
    assert talks.player_answer(code, tokens[3], guess.number).points == 2  # "blahnik", the model's second word
    talks.go_to(code, secret, talk, beat_of(FAKE_OR_REAL).number)  # a round's points count in the place too
    talks.start_round(code, secret)  # round 1's sentence is real
    talks.vote(code, tokens[1], 1, 0, False, "sure")  # -3
    talks.vote(code, tokens[6], 1, 0, True, "sure")  # +2
    talks.reveal(code, secret)
    standings = talks.talk_standings(code)
    assert len(standings) == len(tokens) and standings[-1][1] == "Player 0 #2"
    by_name = {name: (rank, total) for rank, name, total in standings}
    names = [f"Player {n}" for n in range(40)] + ["Player 0 #2"]
    for name, token in zip(names, tokens, strict=True):
        rank, total = by_name[name]
        assert talks.place(code, token) == (rank, len(tokens), total)  # the same place as the standings say
    assert talks.place(code, "not-a-token") is None
    assert sum(total for _, _, total in standings) == sum(talks.talk_points(code).values()) - 3 + 2  # each point once


# ---------------------------------------------------------------- pages

def open_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    at.query_params.update(query)
    return at.run()


def page_text(at: AppTest) -> str:
    parts = [m.value for m in [*at.markdown, *at.subheader]] + [h.value for h in at.get("html")]
    parts += [e.value for e in [*at.info, *at.success, *at.warning, *at.error, *at.caption]]
    return "\n".join(parts)


def speaker_press(at: AppTest, action: str) -> AppTest:
    return at.button(key=f"talk_{action}").click().run()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_beat_kind_on_the_stage_the_speaker_view_and_a_phone(talks, talk_room, kind):
    code, secret = talk_room
    talk = load_talk()
    # the demos the room feeds (the cloud, the gates) have tests of their own below
    beat = next(b for b in talk.beats if b.kind == kind and b.settings.get("view") not in FED_VIEWS)
    player = talks.join(code, "<b>Alice</b>")
    talks.go_to(code, secret, talk, beat.number)

    speaker = open_page("speaker.py", {"room": code, "key": secret})
    assert not speaker.exception, speaker.exception
    assert beat.notes in page_text(speaker)
    assert all(heading.proto.hide_anchor for heading in [*speaker.title, *speaker.subheader])  # the key stays put
    phone = open_page("play.py", {"room": code, "player": player})
    assert not phone.exception, phone.exception

    if kind == WORD_GUESS:
        phone.text_input(key=f"talk_word_{beat.number}").input("Apprehensiv").run()
        phone.button(key="talk_send").click().run()
        said = page_text(phone)
        assert "not in the model's vocabulary" in said and "apprehensive" in said  # a suggestion, nothing stored
        phone.text_input(key=f"talk_word_{beat.number}").input("Apprehensive").run()
        phone.button(key="talk_send").click().run()
        assert "Your answer: apprehensive" in page_text(phone)
    elif kind == CHOICE:
        assert [b.label for b in phone.button if b.key.startswith("talk_tile_")][0] == "▲ queen"
        phone.button(key="talk_tile_0").click().run()
    elif kind == ESTIMATE:
        phone.slider(key=f"talk_estimate_{beat.number}").set_value(3.0).run()
        phone.button(key="talk_estimate_send").click().run()
        assert "Your answer: 3" in page_text(phone)
    elif kind in (SLIDE, DEMO):
        assert "Look at the big screen" in page_text(phone)

    stage = open_page("stage.py", {"room": code})
    assert not stage.exception, stage.exception
    shown = page_text(stage)
    assert secret not in shown and "key=" not in shown and not stage.button  # no controls, no key
    assert (beat.title or KINDS[kind]) in shown
    if beat.asks:
        assert "1 of 1 answered" in shown
        speaker = speaker_press(speaker, "reveal")
        assert not speaker.exception, speaker.exception
        stage = open_page("stage.py", {"room": code})
        shown = page_text(stage)
        assert {"word_guess": "The model said", "choice": "queen · 1 ✓", "estimate": "Closest: &lt;b&gt;Alice&lt;/b&gt;"
                }[kind] in shown
        assert "<b>Alice</b>" not in shown  # a player's name is text, never HTML
        phone.run()
        assert "Your place in the room" in page_text(phone) and "1st of 1" in page_text(phone)
    if kind == FAKE_OR_REAL:
        speaker = speaker_press(speaker, "next")  # → deals the first round
        stage = open_page("stage.py", {"room": code})
        assert "a sentence for round 0" in page_text(stage) and "+2 / −3" in page_text(stage)
        phone.run()
        phone.button(key="room_human").click().run()
        speaker_press(speaker, "next")  # → reveals it
        assert "Written by a person." in page_text(open_page("stage.py", {"room": code}))


def stage_cloud(at: AppTest) -> dict | None:
    """The scene the stage sent to its point-cloud plot (app/ui/point_cloud.js)."""
    found = [e for e in at.get("bidi_component") if e.proto.id.endswith("stage_cloud")]
    return json.loads(found[0].proto.json) if found else None


def test_each_live_demo_draws_on_the_stage(talks, talk_room):
    code, secret = talk_room
    talk = load_talk()
    drawn = {}
    for beat in (b for b in talk.beats if b.kind == DEMO):
        talks.go_to(code, secret, talk, beat.number)
        stage = open_page("stage.py", {"room": code})
        assert not stage.exception, stage.exception
        drawn[beat.settings["view"]] = (page_text(stage), len(stage.get("plotly_chart")), stage_cloud(stage))
    cloud = drawn["explorer"][2]
    assert cloud["dims"] == 3 and cloud["cloud"]["id"] == "fashion-reviews/skipgram/tsne3"  # the explorer's own
    assert len(cloud["cloud"]["words"]) == 4000 and [m["word"] for m in cloud["marks"]] == ["dress"]
    assert "0 of 0 placed a word · the 3D t-SNE of fashion-reviews/skipgram" in drawn["explorer"][0]
    assert drawn["gradients"][1] == 1
    assert all(f"{name} (unit" in drawn["gates"][0] for name in ("input gate", "forget gate", "output gate"))
    assert "The talk's sentence" in drawn["gates"][0]  # before any phone sends one


def outside_the_projection(key: str) -> str:
    """A word the model knows that its stored t-SNE did not project: the stage places it among its neighbours."""
    projected = set(models.load_projections(key)["words"].tolist())
    vectors: Embeddings = models.load_embeddings(key)
    return next(w for w in vectors.words[4000:] if w not in projected and w.isalpha())


def test_the_rooms_words_land_live_in_the_3d_cloud(talks, talk_room):
    code, secret = talk_room
    talk = load_talk()
    beat = next(b for b in talk.beats if b.settings.get("view") == "explorer")
    talks.go_to(code, secret, talk, beat.number)
    rare = outside_the_projection("fashion-reviews/skipgram")
    phones = {name: open_page("play.py", {"room": code, "player": talks.join(code, name)})
              for name in ("Alice", "Bob", "Cy", "Dee")}
    phone = phones["Alice"]
    assert "your word joins the cloud" in page_text(phone)
    phone.text_input(key=f"talk_word_{beat.number}").input("Silkk").run()
    phone.button(key="talk_send").click().run()
    assert "not in the model's vocabulary" in page_text(phone) and "silk" in page_text(phone)  # nothing stored
    assert talks.answered(code, beat.number)[0] == 0
    for name, word in (("Alice", "Silk"), ("Bob", " SILK "), ("Cy", rare), ("Dee", "dress")):
        phones[name].text_input(key=f"talk_word_{beat.number}").input(word).run()
        phones[name].button(key="talk_send").click().run()
        assert "Look at the big screen" in page_text(phones[name])

    stage = open_page("stage.py", {"room": code})
    assert not stage.exception, stage.exception
    marks = {m["word"]: m for m in stage_cloud(stage)["marks"]}
    assert list(marks) == ["silk · 2", *sorted(["dress · 1", f"{rare} · 1"])]  # most typed first, ties by name
    assert all(m["label"] == "large" and not m["pick"] for m in marks.values())
    assert marks[f"{rare} · 1"]["shape"] == "diamond" and marks["silk · 2"]["shape"] == "circle"  # placed, projected
    assert stage_cloud(stage)["height"] == "62vh"  # within 1080 px under the headline
    assert "4 of 4 placed a word" in page_text(stage)
    assert "--cloud-label-size: 1.5vw" in page_text(stage)  # labels at projector size: 29 px at 1920
    # the speaker hides a word: it leaves the cloud
    speaker = open_page("speaker.py", {"room": code, "key": secret})
    dee = next(a for a in talks.answers(code, beat.number) if a.name == "Dee")
    speaker.button(key=f"talk_hide_{dee.id}").click().run()
    marks = [m["word"] for m in stage_cloud(open_page("stage.py", {"room": code}))["marks"]]
    assert marks == ["silk · 2", f"{rare} · 1", "dress"]  # still the talk's word, without the room's count
    # → closes the phones; the cloud stays
    speaker_press(speaker, "next")
    assert talks.progress(code).phase == REVEALED
    phones["Alice"].run()
    assert "Yours: silk" in page_text(phones["Alice"]) and "Your place in the room" in page_text(phones["Alice"])
    assert stage_cloud(open_page("stage.py", {"room": code}))["marks"][0]["word"] == "silk · 2"
    assert CLOUD_WORDS >= 3


def test_a_phones_sentence_goes_through_the_gates_on_the_stage(talks, talk_room):
    code, secret = talk_room
    talk = load_talk()
    beat = next(b for b in talk.beats if b.settings.get("view") == "gates")
    talks.go_to(code, secret, talk, beat.number)
    alice, bob = talks.join(code, "Alice"), talks.join(code, "<i>Bob</i>")
    phone = open_page("play.py", {"room": code, "player": alice})
    phone.text_input(key=f"talk_sentence_{beat.number}").input("x" * (SENTENCE_MAX + 5)).run()
    phone.button(key="talk_send").click().run()
    assert f"at most {SENTENCE_MAX} characters" in page_text(phone)
    phone.text_input(key=f"talk_sentence_{beat.number}").input("the  <b>silk</b>\u200b dress").run()
    phone.button(key="talk_send").click().run()
    assert not phone.exception, phone.exception
    assert "Look at the big screen" in page_text(phone)

    stage = open_page("stage.py", {"room": code})
    shown = page_text(stage)
    assert "Alice's sentence · 1 of 2 sent one" in shown
    assert ">&lt;</span>" in shown and "<b>silk" not in shown  # the phone's text, escaped, character by character
    talks.answer(code, bob, beat, "a sentence from bob")
    shown = page_text(open_page("stage.py", {"room": code}))
    assert "&lt;i&gt;Bob&lt;/i&gt;'s sentence · 2 of 2 sent one" in shown  # the latest, until one is chosen
    # the speaker puts Alice's on the stage, then hides it: back to the latest shown
    speaker = open_page("speaker.py", {"room": code, "key": secret})
    first = talks.answers(code, beat.number)[0]
    speaker.button(key=f"talk_choose_{first.id}").click().run()
    assert not speaker.exception, speaker.exception
    assert "Alice's sentence" in page_text(open_page("stage.py", {"room": code}))
    assert "on the stage" in page_text(speaker) and speaker.button(key=f"talk_choose_{first.id}").disabled
    speaker.button(key=f"talk_hide_{first.id}").click().run()
    assert "Bob&lt;/i&gt;'s sentence" in page_text(open_page("stage.py", {"room": code}))
    with pytest.raises(NotPresenter):
        talks.choose_answer(code, alice, beat.number, first.id)


def test_the_speakers_keys_and_buttons_walk_the_talk(talks, talk_room):
    code, secret = talk_room
    speaker = open_page("speaker.py", {"room": code, "key": secret})
    speaker_press(speaker, "next")
    assert talks.progress(code).beat == 2
    speaker_press(speaker, "back")
    speaker_press(speaker, "back")  # not before the first beat
    assert talks.progress(code).beat == 1
    speaker_press(speaker, "qr")
    stage = open_page("stage.py", {"room": code})
    assert "Join on your phone" in page_text(stage) and f"play?room={code}" in page_text(stage)
    assert secret not in page_text(stage)
    speaker_press(speaker, "blank")
    assert talks.progress(code).screen == BLANK


def test_only_the_speakers_key_runs_the_talk_and_a_room_without_one_is_said(talks, talk_room):
    code, secret = talk_room
    at = open_page("speaker.py", {"room": code, "key": secret[:-1]})
    assert "Only the screen that created this room can run it." in page_text(at)
    assert not [b for b in at.button if b.key.startswith("talk_")]
    at = open_page("stage.py", {"room": "ZZZZ"})
    assert "There is no room ZZZZ" in page_text(at)
    at = open_page("speaker.py", {})
    assert at.selectbox(key="talk_file").value == DEFAULT_TALK.name


def test_the_stage_podium_sets_the_room_beside_the_machines_per_deck_played(talks, talk_room):
    code, secret = talk_room  # three "normal" rounds: real, fake, real
    talk = load_talk()
    podium = next(b for b in talk.beats if b.settings.get("podium"))
    talks.go_to(code, secret, talk, podium.number)
    assert "against the machines" not in page_text(open_page("stage.py", {"room": code}))  # no round played yet

    tokens = [talks.join(code, name) for name in ("Ada", "Bob", "Cy")]
    talks.go_to(code, secret, talk, beat_of(FAKE_OR_REAL).number)
    talks.presenter_room(code, secret)
    for number in (1, 2):  # round 2's sentence is the fake: Ada alone takes it for human
        talks.start_round(code, secret)
        for index, token in enumerate(tokens):
            talks.vote(code, token, number, 0, index == 0, "think so")
        talks.reveal(code, secret)
    talks.go_to(code, secret, talk, podium.number)
    stage = open_page("stage.py", {"room": code})
    assert not stage.exception, stage.exception
    assert "The room against the machines" in page_text(stage)
    lines = [m.value for m in stage.markdown if "deck: " in m.value]
    assert len(lines) == 1 and lines[0].startswith("**normal** deck: ")  # the one deck played, once
    assert "this room fooled 33% of the time (3 fakes judged)" in lines[0]
    assert re.search(r"best machine right \d+% \(", lines[0])  # the deck's strongest detector, from its card


# ---------------------------------------------------------------- after the talk, and rejoining

def test_the_results_page_shows_the_podium_the_revealed_beats_and_a_public_csv(talks, talk_room):
    code, secret = talk_room
    talk = load_talk()
    choice, guess = beat_of(CHOICE), beat_of(WORD_GUESS, task="neighbours", word="manolo")
    alice, bob, cy = (talks.join(code, name) for name in ("Alice", "<b>Bob</b>", "Cy"))
    talks.go_to(code, secret, talk, guess.number)
    talks.answer(code, alice, guess, "blahnik")
    talks.answer(code, bob, guess, "rude")
    talks.hide_answer(code, secret, talks.answers(code, guess.number)[1].id)
    talks.reveal_beat(code, secret, guess, {"words": ["blahnik", "jimmy"], "note": ""})
    talks.go_to(code, secret, talk, choice.number)
    talks.answer(code, cy, choice, "0")  # asked, never revealed: not public yet
    speaker = open_page("speaker.py", {"room": code, "key": secret})
    assert f"(results?room={code})" in page_text(speaker)  # the speaker view links to it, by the code alone

    at = open_page("results.py", {"room": code})
    assert not at.exception, at.exception
    shown = page_text(at)
    assert secret not in shown and "key=" not in shown
    assert "🥇 Alice" in shown and "&lt;b&gt;Bob&lt;/b&gt;" in shown and "<b>Bob" not in shown
    assert "Closest word to Manolo?" in shown and "The model: blahnik, jimmy" in shown
    assert "The room: blahnik (1)" in shown and "rude" not in shown  # the hidden answer stays hidden
    assert "An analogy" not in shown  # not revealed yet
    rows = list(csv.DictReader(io.StringIO(talks.answers_csv(code, talk, public=True))))  # what the page offers
    assert [(r["player"], r["answer"], r["points"]) for r in rows] == [("Alice", "blahnik", "3")]
    assert len(list(csv.DictReader(io.StringIO(talks.answers_csv(code, talk))))) == 3  # the speaker's: all
    assert [b.proto.label for b in at.get("download_button")] == ["The answers per beat (CSV)"]
    assert "There is no room ZZZZ" in page_text(open_page("results.py", {"room": "ZZZZ"}))
    assert not open_page("results.py", {}).exception


def test_a_player_rejoins_by_nickname_and_rejoin_code_and_keeps_the_score(talks, talk_room):
    code, secret = talk_room
    talk, choice = load_talk(), beat_of(CHOICE)
    first, second = talks.join(code, "Alice"), talks.join(code, "Alice")  # namesakes: "Alice", "Alice #2"
    talks.go_to(code, secret, talk, choice.number)
    talks.answer(code, second, choice, "0")
    talks.reveal_beat(code, secret, choice)
    assert rejoin_code(first) != rejoin_code(second) and len(rejoin_code(first)) == 6
    assert talks.rejoin(code, " alice ", rejoin_code(first)) == first  # nickname as typed, any case
    assert talks.rejoin(code, "Alice #2", rejoin_code(second).lower()) == second  # or as the board shows it
    assert talks.rejoin(code, "ALICE", f"{rejoin_code(second)[:3]}-{rejoin_code(second)[3:]}") == second
    for name, typed in (("Alice", "AAAAAA"), ("Bob", rejoin_code(first)), ("", "")):
        with pytest.raises(RoomError, match="Nobody in room"):
            talks.rejoin(code, name, typed)

    phone = open_page("play.py", {"room": code, "player": second})
    assert f"Your rejoin code: **{rejoin_code(second)}**" in page_text(phone)
    stage = open_page("stage.py", {"room": code})
    assert rejoin_code(second) not in page_text(stage)  # never on the stage
    # another browser: no token; the nickname and the code bring back the player and the points
    other = open_page("play.py", {"room": code})
    other.text_input(key="talk_rejoin_name").input("Alice #2").run()
    other.text_input(key="talk_rejoin_code").input("WRONG1").run()
    other.button(key="talk_rejoin").click().run()
    assert "Nobody in room" in page_text(other) and "player" not in other.query_params
    other.text_input(key="talk_rejoin_code").input(rejoin_code(second)).run()
    other.button(key="talk_rejoin").click().run()
    assert not other.exception, other.exception
    assert other.query_params["player"] == second
    assert "1st of 2 · 2 points" in page_text(other)
    assert talks.player_count(code) == 2  # the same player, not a new one
