"""Streamlit helpers of the "Fake or real?" page: shared game supplies, the leaderboard, the
game's session state and the pieces of the page that repeat (a sentence card, the reveal).

Game logic is in ``app/game/quiz.py`` and storage in ``app/game/leaderboard.py``; this module only wires
them to Streamlit (process-wide caches, session state, rendering).
"""

from __future__ import annotations

import html
import os
import random
import secrets

import streamlit as st

from app import ui
from app.catalog import models
from app.data.corpus import CorpusError, fashion_corpus_path
from app.game import decks, quiz
from app.game.leaderboard import DATABASE_ENV, Board, FooledRow, Leaderboard, LeaderboardUnavailable, PlayerRow, ordinal
from app.lessons.highlight import Piece, pieces_html, rank_legend_html
from app.storage import store

GAME, REVEALING, SAVED, PROBLEM = "quiz_game", "quiz_revealing", "quiz_saved_game_id", "quiz_problem"
SAVE_PROBLEM = "quiz_save_problem"
PLAYER = "quiz_player"  # this browser session's id on the board
BOARD_SECONDS = 2  # how old the shared board may be (every visitor's page refreshes it every few seconds)


# ---------------------------------------------------------------- process-wide resources

def playable_bundles() -> tuple[list[str], list[str]]:
    """(playable bundles, notices about bundles left out); the manifests are read once per
    process for each set of bundles and corpus location, not on every rerun."""
    return _playable(tuple(ui.language_model_bundles()), str(fashion_corpus_path()))


@st.cache_data(show_spinner=False, max_entries=64)
def _playable(bundles: tuple[str, ...], fashion_path: str) -> tuple[list[str], list[str]]:
    """``bundles``: the sound LMs this browser may use (built-in, shared, its own: a damaged LM is
    not playable; restored, it is again)."""
    return quiz.playable_bundles(list(bundles))


@st.cache_resource(show_spinner=False)
def warm_up() -> None:
    """When anyone opens any page, load the first playable bundle's model and stored fakes and start reading
    its real sentences, so a room's first game starts at once (a model without a stored deck
    starts writing fakes live).
    Cached: it runs once per process, not on every rerun of every page.
    ATELIER_WARM_UP=0 turns it off (the unit tests do, to keep the CPU for themselves)."""
    if os.environ.get("ATELIER_WARM_UP", "1") == "0":
        return
    # Cached across sessions, so nothing here may read or draw one visitor's state (a cookie script
    # drawn here was once replayed to every visitor): the room's bundles are the shared ones.
    playable, _ = _playable(tuple(models.language_model_bundles(None)), str(fashion_corpus_path()))
    try:
        if playable:
            supply(playable[0]).warm()
    except store.StoreError:
        pass  # the quiz page says what is wrong with the model; no other page should suffer for it


@st.cache_resource(show_spinner=False)
def supply(bundle: str) -> quiz.GameSupply:
    """One per bundle per process: all players share its dealers, stored decks and reveals."""
    return quiz.GameSupply.of(bundle, ui.language_model(bundle))


def database_url() -> str | None:
    """$ATELIER_DATABASE_URL, else the same key in Streamlit secrets, else None (the default file)."""
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    try:
        return st.secrets.get(DATABASE_ENV)
    except Exception:  # noqa: BLE001 - no secrets file (or an unreadable one) means "not configured"
        return None


@st.cache_resource(show_spinner=False)
def _leaderboard(url: str | None) -> Leaderboard:
    return Leaderboard(url)  # a failure raises and is not cached: the next run tries again


@st.cache_data(ttl=BOARD_SECONDS, show_spinner=False, max_entries=64)
def _shared_standings(url: str | None, bundle: str, difficulty: str) -> tuple[Board, list[FooledRow]]:
    board = _leaderboard(url)
    return board.board(bundle, difficulty), board.fooled_rate(bundle=bundle)


def standings(bundle: str, difficulty: str) -> tuple[Board, list[FooledRow]]:
    """The room's board and fooled rates. Every page refreshes them every few seconds, so the
    visitors of one process share one reading for up to BOARD_SECONDS (100 phones would otherwise
    make a hundred rounds of queries); a player on the board (one with a player id: given when
    a game is first saved) gets their own row, read fresh. Raises LeaderboardUnavailable."""
    url = database_url()
    shared, fooled = _shared_standings(url, bundle, difficulty)
    if PLAYER not in st.session_state:
        return shared, fooled
    return _leaderboard(url).board(bundle, difficulty, player_id()), fooled


def leaderboard() -> tuple[Leaderboard | None, str | None]:
    """(the room's leaderboard, None) or (None, why it cannot be used)."""
    try:
        return _leaderboard(database_url()), None
    except LeaderboardUnavailable as e:
        return None, str(e)


# ---------------------------------------------------------------- this player's game

def game() -> quiz.Game | None:
    return st.session_state.get(GAME)


def start_game(bundle: str, difficulty: str, mode: str, writer: str = decks.CHAR_LSTM) -> None:
    """New game's callback: deal a game (on a fresh server the first one waits for the corpus to
    be read); a bundle that fails is reported by show_problem."""
    st.session_state.pop(PROBLEM, None)
    try:
        st.session_state[GAME] = supply(bundle).deal_game(difficulty, mode, random.Random(), writer)
    except (CorpusError, RuntimeError, ValueError, store.StoreError) as e:
        st.session_state[PROBLEM] = f"The {bundle} model cannot be played right now: {e}"
        return
    st.session_state[REVEALING] = False
    st.session_state.pop(SAVED, None)
    st.session_state.pop(SAVE_PROBLEM, None)


def show_problem() -> None:
    if st.session_state.get(PROBLEM):
        st.error(st.session_state[PROBLEM])


def answer(picked: int, says_real: bool) -> None:
    """Button callback: judge the current round with the confidence the player picked."""
    current = game()
    if current is None or current.finished:
        return
    confidence = st.session_state.get("quiz_confidence") or quiz.CONFIDENCES[0]
    current.rounds[current.current].judge(picked, says_real, confidence)
    st.session_state[REVEALING] = True


def next_round() -> None:
    st.session_state[REVEALING] = False


def revealing() -> bool:
    return bool(st.session_state.get(REVEALING))


def save_score(board: Leaderboard, nickname: str) -> bool:
    """Store the finished game once; a bad nickname or a database failure is shown, not raised."""
    current = game()
    if current is None or st.session_state.get(SAVED):
        return False
    try:
        st.session_state[SAVED] = board.record_game(current, nickname, player=player_id())
        _shared_standings.clear()  # the saver sees the new board at once (other processes within BOARD_SECONDS)
        return True
    except (ValueError, LeaderboardUnavailable) as e:
        st.session_state[SAVE_PROBLEM] = str(e)  # shown by show_save_problem (this may run in a callback)
        return False


def save_clicked() -> None:
    """"Enter the leaderboard"'s callback: saved before the game's fragment reruns, which then shows it."""
    st.session_state.pop(SAVE_PROBLEM, None)
    board, problem = leaderboard()
    if board is not None:
        save_score(board, st.session_state.get("quiz_nickname") or "")
    else:
        st.session_state[SAVE_PROBLEM] = problem


def show_save_problem() -> None:
    if st.session_state.get(SAVE_PROBLEM):
        st.warning(st.session_state[SAVE_PROBLEM])


# ---------------------------------------------------------------- rendering

# The sentence is what the game is about: drawn in the theme's text font, as large as fits. Its size steps
# down with its length so that on a 390 x 844 phone a sentence of up to 30 words (about 200 characters)
# and both answers fit the first screen (tests/e2e/test_fake_or_real.py measures it): (up to characters, size).
SENTENCE_SIZES = ((150, "1.75rem"), (None, "1.5rem"))
HEADING_SIZE = SENTENCE_SIZES[-1][1]  # the section headings: never larger than a sentence
# the shared coloured-text style is monospace with tall lines (for colour highlights): here a plain sentence
SENTENCE_CSS = ("<style>.quiz-sentence .atelier-text{font-family:inherit !important;line-height:1.25 !important}"
                "</style>")


def sentence_size(text: str) -> str:
    """The font size of a sentence of this length (SENTENCE_SIZES)."""
    return next(size for longest, size in SENTENCE_SIZES if longest is None or len(text) <= longest)


def section_heading(text: str) -> None:
    """A section's heading under the page's title: an h2 (a screen reader's outline skips no level), drawn
    at the smallest sentence's size so that a sentence stays the largest text after the title (on a phone too)."""
    st.markdown(f'<h2 style="font-size:{HEADING_SIZE}">{html.escape(text)}</h2>', unsafe_allow_html=True)


def sentence_card(text: str, label: str = "") -> None:
    """A sentence as escaped text in a bordered box (no markdown: it is shown exactly as written)."""
    with st.container(border=True):
        if label:
            st.caption(label)
        st.markdown(f'{SENTENCE_CSS}<div class="quiz-sentence" style="font-size:{sentence_size(text)}">'
                    f'{pieces_html([Piece(text, "transparent")])}</div>', unsafe_allow_html=True)


SURPRISE_TIPS = {
    True: "Less surprising to the model than the average real sentence (bland sampling makes machine text so).",
    False: "More surprising to the model than the average real sentence (people often are; so is bold sampling).",
}


def show_verdict(answered: quiz.Round) -> None:
    """Right or wrong, and the points."""
    result = answered.answer
    points = f"{result.points:+d} point{'s' if abs(result.points) != 1 else ''}"
    (st.success if result.correct else st.error)(f"{'Right' if result.correct else 'Wrong'}! {points}")


def show_model_view(bundle: str, sentences: list[quiz.Sentence], by: str) -> None:
    """Who wrote each sentence, its GLTR colouring and the model's surprise (the solo reveal and the room's)."""
    game_supply = supply(bundle)
    average = game_supply.real_average()
    for number, (sentence, shown) in enumerate(zip(sentences, game_supply.reveals([s.text for s in sentences]),
                                                   strict=True)):
        name = "human" if sentence.real else "LSTM"
        with st.container(border=True):
            label = f"Sentence {'AB'[number]}: " if len(sentences) > 1 else ""
            st.markdown(f"**{label}written by {name}**")
            pieces = shown.by_character if by == "character" else shown.by_word
            st.markdown(pieces_html(pieces), unsafe_allow_html=True)
            delta = shown.nats_per_char - average
            st.metric("model's surprise (nats/char)", f"{shown.nats_per_char:.2f}",
                      delta=f"{delta:+.2f} vs the average real sentence ({average:.2f})", delta_color="off")
            st.caption(SURPRISE_TIPS[delta < 0])
    st.markdown(rank_legend_html(), unsafe_allow_html=True)
    st.caption("Colour = how highly the LSTM ranked what was actually written (GLTR). Text sampled cautiously is "
               "mostly green: the model writes what it expects. " + (
                   "The normal and hard decks are sampled from the model's likelier choices (top-p 0.8), then chosen, "
                   "with the real sentences dealt beside them, so their colours and surprise match: there they cannot "
                   "give it away." if game_supply.stored
                   else "This model's fakes are sampled live (top-p 0.8) and not chosen to match people's: "
                   "their colours and surprise may give them away."))



def writer_name(writer: str) -> str:
    return decks.WRITERS.get(writer, writer)


def difficulty_note(bundle: str, difficulty: str) -> str:
    """What the difficulty's deck is and how detectable it measured."""
    stored = supply(bundle).stored.get(decks.CHAR_LSTM)
    # a deck written before today's plans says what it is on its own card
    description = ((stored.descriptions if stored else None) or {}).get(difficulty) \
        or quiz.DIFFICULTIES[difficulty].description
    note = f"**{difficulty}**: {description}."
    machine = machine_figures(bundle, difficulty)
    if machine:
        note += (f" Measured: the strongest of the detectors ({machine['detector']}) tells its fakes from real "
                 f"sentences {machine['machine accuracy']:.0%} of the time (50% is chance).")
    return note


LIVE_FAKES = "live fakes"  # what a model without stored decks deals, in place of a difficulty's name
LIVE_FAKES_NOTE = (
    "This model has no stored decks, so there is no difficulty to pick: its fakes are written live as you play, "
    "sampled from its LSTM's likelier choices (top-p 0.8) and kept when they end like a sentence, are 5 to 30 words long, "
    "use only words of its training text and recite nothing of it. They are not matched to real sentences, so their "
    "words or the model's surprise may give them away.")


def writes_live(bundle: str) -> bool:
    """A model trained in the app: no stored decks, its fakes are written as people play (a FakePool)."""
    return not supply(bundle).stored


def deck_name(bundle: str, difficulty: str) -> str:
    """What a game of this bundle and difficulty deals from, as the page names it."""
    return LIVE_FAKES if writes_live(bundle) else difficulty


def saved() -> bool:
    return bool(st.session_state.get(SAVED))


# ---------------------------------------------------------------- leaderboard tables

def whole_percent(rate: float | None) -> int | None:
    """A rate as whole percents, for tables (a table's "percent" format would show 57.14%)."""
    return None if rate is None else round(100 * rate)


WHOLE_PERCENT = "%d%%"  # how tables show whole_percent's numbers: 57%
FOOLED_COLUMNS = {
    "fooled": st.column_config.ProgressColumn("fooled", format=WHOLE_PERCENT, min_value=0, max_value=100),
    "machine fooled": st.column_config.ProgressColumn(
        "machine fooled", format=WHOLE_PERCENT, min_value=0, max_value=100,
        help="fakes the strongest detector took for real (5-fold cross-validation on this deck)"),
    "machine accuracy": st.column_config.NumberColumn(
        "machine accuracy", format=WHOLE_PERCENT, help="the strongest detector's accuracy: 50% is chance"),
}


def player_id() -> str:
    """Who this browser session is on the board: two players who pick one nickname stay two rows."""
    return st.session_state.setdefault(PLAYER, secrets.token_urlsafe(12))


def player_rows(players: list[PlayerRow]) -> list[dict]:
    """Rows for st.dataframe, which shows nicknames as plain text (never as HTML or markdown)."""
    return [{"#": p.rank, "player": p.nickname, "best score": p.best_score, "games": p.games,
             "accuracy": f"{p.accuracy:.0%}"} for p in players]


def board_caption(board: Board) -> str:
    """How many are on the board, and where this player stands (also outside the top rows)."""
    everyone = f"Top {len(board.top)} of {board.players} player{'s' * (board.players != 1)}."
    if board.me is None:
        return everyone
    return (f"{everyone} You ({board.me.nickname}): {ordinal(board.me.rank)} of {board.players}, "
            f"best score {board.me.best_score}.")


def fooled_rows(rows: list[FooledRow], bundle: str | None = None) -> list[dict]:
    """The room's fooled rate per difficulty; with a bundle, next to the detectors' figures on
    its stored decks: people against machines."""
    order = list(quiz.DIFFICULTIES)
    rows = sorted(rows, key=lambda r: order.index(r.difficulty) if r.difficulty in order else len(order))
    table = [{"difficulty": r.difficulty, "fakes judged": r.fakes_judged, "fooled": whole_percent(r.rate)}
             for r in rows]
    if bundle is not None:
        for row in table:
            machine = machine_figures(bundle, row["difficulty"])
            row["difficulty"] = deck_name(bundle, row["difficulty"])
            row |= {name: whole_percent(value) if name != "detector" else value for name, value in machine.items()}
    return table


def machine_figures(bundle: str, difficulty: str, writer: str = decks.CHAR_LSTM) -> dict:
    """The strongest detector on a stored deck and its accuracy (5-fold CV against real test
    sentences, measured at training time); empty for a deck without stored figures."""
    stored = supply(bundle).stored.get(writer)
    figures = (stored.metrics if stored else {}).get(difficulty) or {}
    accuracy, fooled = figures.get("detectors"), figures.get("detectors_fooled") or {}
    if not accuracy:
        return {}
    name = max(accuracy, key=accuracy.get)
    return {"machine fooled": fooled.get(name), "machine accuracy": accuracy[name], "detector": name}


def reader_figures(bundle: str, difficulty: str, writer: str = decks.CHAR_LSTM) -> dict | None:
    """Careful blind readers on a stored deck (bench/blind_read.py), as its card holds them (or, for a deck
    read after it was stored, as decks.READER_BENCHMARKS does): {"accuracy", "readers", "sentences"}, or
    None where none were measured."""
    stored = supply(bundle).stored.get(writer)
    carded = ((stored.metrics if stored else {}).get(difficulty) or {}).get("readers")
    return carded or decks.READER_BENCHMARKS.get((bundle, writer, difficulty))


def people_against_machines(bundle: str, difficulty: str, writer: str = decks.CHAR_LSTM,
                            fooled: list[FooledRow] | None = None) -> str:
    """After a reveal: "this room fooled 58% · careful readers right 71% · best machine right 57%"
    for the deck just played (figures the deck does not have are left out)."""
    parts = []
    room = next((r for r in fooled or [] if r.difficulty == difficulty and r.fakes_judged), None)
    if room is not None:
        parts.append(f"this room fooled {room.rate:.0%} of the time ({room.fakes_judged} fakes judged)")
    readers = reader_figures(bundle, difficulty, writer)
    if readers:
        parts.append(f"careful readers right {readers['accuracy']:.0%} ({readers['readers']} reader"
                     f"{'s' * (readers['readers'] != 1)}, {readers['sentences']} sentences)")
    machine = machine_figures(bundle, difficulty, writer)
    if machine:
        parts.append(f"best machine right {machine['machine accuracy']:.0%} ({machine['detector']})")
    played = f"**{LIVE_FAKES}**" if writes_live(bundle) else f"**{difficulty}** deck"
    return f"{played}: " + " · ".join(parts) + " (50% is chance)" if parts else ""


def room_fooled(bundle: str) -> list[FooledRow]:
    """The room's fooled rates, or none when the board cannot be read (the reveal shows without them)."""
    try:
        return standings(bundle, quiz.DEFAULT_DIFFICULTY)[1]
    except LeaderboardUnavailable:
        return []
