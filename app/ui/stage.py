"""Streamlit helpers of talk mode: the stage (pages/stage.py, the projector), the speaker view
(pages/speaker.py, the laptop), a talk's beats on the phones (pages/play.py) and the results page
(pages/results.py, public by the room's code).

State lives in SQL (app/game/talk_room.py), the talk in a TOML file (app/game/talk.py). The address holds
who is who, as in room mode: ``?room=CODE`` for everyone, ``&key=SECRET`` on the speaker view only (never
on the stage, its links or its QR code), ``&player=TOKEN`` on a phone. The stage has no buttons: the
speaker view moves the talk (its buttons, or the keyboard: → / space next, ← back, R reveal, Q the QR
code, B blank), and the stage follows by asking the database twice a second. A stage opened in the speaker's
own browser answers the same keys (the key travels in a cookie, never in an address: see
``let_this_browser_drive_the_stage``); in any other browser it only follows.

Everything a player typed is shown through ``html.escape``; the talk file's own text is markdown.
"""

from __future__ import annotations

import base64
import html
import re
import time
from pathlib import Path

import numpy as np
import streamlit as st

from app.catalog import models
from app.explorer import scenes
from app.game import quiz
from app.game.leaderboard import ordinal
from app.game.room import LOBBY, REVEAL, ROOM_LIFETIME, ROUND, RoomError, RoomUnavailable
from app.game.talk import (
    CHOICE,
    DEMO,
    ESTIMATE,
    FAKE_OR_REAL,
    KINDS,
    SENTENCE_MAX,
    TALKS,
    WORD_GUESS,
    Beat,
    Talk,
    TalkError,
    answering_model,
    demo_model,
    load_talk,
    model_answer,
    normalise_answer,
)
from app.game.talk_room import (
    ASK,
    BLANK,
    QR,
    REVEALED,
    BeatResult,
    Progress,
    TalkStore,
    first_round,
    rejoin_code,
    rounds_needed,
    shown_answer,
)
from app.lessons import gates, gradients
from app.lessons.highlight import pieces_html
from app.serving import network
from app.ui import embeddings, language_model
from app.ui import explorer as ui_explorer
from app.ui import gates as ui_gates
from app.ui import join as ui_join
from app.ui import quiz as ui_quiz
from app.ui import room as ui_room

STAGE_PAGE, SPEAKER_PAGE, RESULTS_PAGE = "stage", "speaker", "results"  # url_paths (app/serving/site.py)
POLL = "0.5s"  # the stage redraws this often (one session): the room's last answer shows within a second
MESSAGE_KEY = ui_room.MESSAGE_KEY
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # secrets.token_urlsafe: nothing a cookie line could break on
# Tiles: Okabe-Ito colours (told apart with any colour vision) under black text (contrast >= 7:1), each
# with its own shape too, the same on the stage and on the phones.
# Okabe-Ito's reddish purple (#CC79A7, 6.9:1 under black) is lightened to #D98CB8 (8.4:1).
TILES = [("▲", "#56B4E9"), ("◆", "#E69F00"), ("●", "#F0E442"), ("■", "#D98CB8")]
INK, PAPER, MUTED = "#111111", "#ffffff", "#333333"  # 18.9:1 and 12.6:1 on white

# The stage is its own container (st-key-stage) laid over the whole window: no sidebar, toolbar, header
# or page title shows, with no reliance on Streamlit's markup. Sizes in vw: 16:9 at 1920 px wide gives a
# 58 px headline and 34 px body text; the beat is laid out to fit 100vh.
STAGE_CSS = f"""<style>
.st-key-stage {{position: fixed; inset: 0; z-index: 1000001; background: {PAPER}; color: {INK};
    padding: 3vh 4vw; overflow: hidden; display: flex; flex-direction: column; gap: 1.5vh;}}
.st-key-stage p, .st-key-stage li, .st-key-stage td, .st-key-stage .stage-body {{font-size: 1.75vw !important; line-height: 1.3; color: {INK};}}
.st-key-stage .stage-title {{font-size: 3vw !important; font-weight: 700; line-height: 1.15; margin: 0 0 1vh 0; color: {INK};}}
.st-key-stage .stage-note {{font-size: 1.7vw; color: {MUTED};}}
.st-key-stage .katex {{font-size: 1.1em;}}
.stage-bars {{display: grid; grid-template-columns: max-content 1fr max-content; gap: 0.8vh 1vw; align-items: center;}}
.stage-bar {{height: 4.5vh; background: #0072B2; min-width: 0.4vw;}}
.stage-bar.model {{background: #009E73;}}
.stage-tiles {{display: grid; grid-template-columns: 1fr 1fr; gap: 2vh 2vw;}}
.stage-tile {{padding: 2.5vh 2vw; border-radius: 1vw; color: #000; font-size: 2.4vw; font-weight: 700;
    border: 0.4vw solid transparent;}}
.stage-tile.right {{border-color: #000;}}
.stage-big {{font-size: 6vw; font-weight: 800; line-height: 1.1;}}
.stage-qr img {{height: 62vh; width: auto;}}
.st-key-stage {{--cloud-label-size: 1.5vw; --cloud-label-large: 1.75vw;}}  /* the cloud's labels: 29 and 34 px */
</style>"""
CLOUD_HEIGHT = "62vh"  # the room's words in the 3D cloud: under the headline and a line of text, in 1080 px
CLOUD_WORDS = 24  # the room's most frequent words marked in the cloud
SPEAKER_CSS = "<style>" + "".join(
    f".st-key-talk_tile_{index} button {{background: {colour}; color: #000; min-height: 5rem; font-size: 1.6rem;"
    f" border: none;}}" for index, (_, colour) in enumerate(TILES)) + """
.st-key-talk_send button, .st-key-talk_estimate_send button, .st-key-talk_rejoin button
    {min-height: 4rem; font-size: 1.4rem;}
</style>"""


# ---------------------------------------------------------------- the store and the talk

@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> TalkStore:
    return TalkStore(url)


def store_or_stop() -> TalkStore:
    try:
        return _store(ui_quiz.database_url())
    except RoomUnavailable as e:
        st.error(str(e))
        st.stop()


def talk_files() -> list[str]:
    return sorted(path.name for path in TALKS.glob("*.toml"))


@st.cache_resource(show_spinner=False, max_entries=16)
def _talk(name: str, changed: float) -> Talk:  # changed: the file's time, so an edit is read again
    """One parsed talk per file version, shared rather than copied (a Talk is frozen): every phone reads it
    on every rerun."""
    return load_talk(TALKS / name)


def talk_or_stop(name: str) -> Talk:
    """The talk file, or its problem (line and what is wrong) in the page, and the run stops."""
    path = TALKS / Path(name).name  # a name, never a path elsewhere
    try:
        return _talk(path.name, path.stat().st_mtime)
    except (OSError, TalkError) as e:
        st.error(f"The talk cannot be read. {e}")
        st.stop()


def beat_on(talk: Talk, progress: Progress) -> Beat:
    """The beat on screen; if the talk file lost beats since (edited mid-talk), its last one."""
    return talk.beats[min(progress.beat, len(talk.beats)) - 1]


def available_models() -> list[str]:
    """Embedding keys and LM bundles the whole room may use (shared ones only)."""
    return [m.key for m in models.embedding_models()] + models.language_model_bundles()


def answer_from_model(beat: Beat) -> dict:
    return model_answer(beat, embeddings, language_model, available_models())


def start_talk(store: TalkStore, talk_name: str, bundle: str) -> None:
    """Deal the Fake-or-real rounds, make the room, put the talk on beat 1 and the speaker's key in this
    page's address (the speaker's laptop only: reloading it resumes the talk)."""
    talk = talk_or_stop(talk_name)
    try:
        with st.spinner("Dealing the Fake-or-real sentences…"):
            dealt = ui_room.deal(bundle, "mixed", "single", max(1, rounds_needed(talk)))
        code, secret = store.create_room(bundle, "single", "mixed", dealt, countdown=30)
        store.start_talk(code, secret, talk_name)
    except (RoomError, RoomUnavailable, RuntimeError, OSError) as e:
        st.error(f"The talk could not start: {e}")
        return
    st.query_params.from_dict({ui_room.ROOM_PARAM: code, ui_room.KEY_PARAM: secret})
    st.rerun()


# ---------------------------------------------------------------- the speaker's actions

def step(store: TalkStore, talk: Talk, code: str, secret: str, action: str) -> None:
    """Button or key callback: next / back / reveal / qr / blank. Refusals become a message, never an error.

    "next" walks a beat through itself first, as a clicker's one button must: an unrevealed question is
    revealed; a Fake-or-real beat starts each of its rounds and reveals it; then the next beat."""
    try:
        progress = store.progress(code)
        beat = beat_on(talk, progress)
        if action == "qr":
            store.show(code, secret, QR)
        elif action == "blank":
            store.show(code, secret, BLANK)
        elif action == "back":
            store.go_to(code, secret, talk, progress.beat - 1)
        elif action == "reveal" or (action == "next" and beat.asks and progress.phase == ASK):
            if beat.asks:
                store.reveal_beat(code, secret, beat, answer_from_model(beat) if beat.kind == WORD_GUESS else None)
            elif beat.kind == FAKE_OR_REAL and store.room(code).phase == ROUND:
                store.reveal(code, secret)
        elif action == "next":
            room = store.room(code)
            first = first_round(talk, beat)
            if beat.kind == FAKE_OR_REAL and room.phase == ROUND:
                store.reveal(code, secret)
            elif (beat.kind == FAKE_OR_REAL and first - 1 <= room.current < first + beat.settings["rounds"] - 1
                  and room.phase in (LOBBY, REVEAL)):
                store.start_round(code, secret)
            else:
                store.go_to(code, secret, talk, progress.beat + 1)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


KEYS_JS = """
export default function ({ parentElement, setTriggerValue }) {
  const keys = { ArrowRight: "next", " ": "next", PageDown: "next", ArrowLeft: "back", PageUp: "back",
                 r: "reveal", R: "reveal", q: "qr", Q: "qr", b: "blank", B: "blank", ".": "blank" };
  const onKey = (event) => {
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey || !(event.key in keys)) return;
    event.preventDefault();
    setTriggerValue("action", keys[event.key]);
  };
  parentElement.ownerDocument.addEventListener("keydown", onKey);
  return () => parentElement.ownerDocument.removeEventListener("keydown", onKey);
}
"""
_keys = st.components.v2.component("talk_keys", js=KEYS_JS)


STAGE_COOKIE = "atelier_stage_{code}"  # the speaker's key, for the stage opened in the speaker's own browser


def let_this_browser_drive_the_stage(code: str, secret: str) -> None:
    """Speaker view: give this browser a cookie with the key, so a stage window opened here (the projector is
    usually the laptop's second screen, and the clicker talks to the window in front) answers the keys too.
    A cookie is never shown, linked or put in a QR code; a stage in any other browser only follows."""
    name = STAGE_COOKIE.format(code=code)
    if st.session_state.get("talk_cookie") != name and (st.context.cookies or {}).get(name) != secret:
        st.html(f"<script>document.cookie = '{name}={secret}; path=/; max-age={ROOM_LIFETIME}; SameSite=Strict';"
                f"</script>", unsafe_allow_javascript=True)
    st.session_state["talk_cookie"] = name


def stage_key(code: str) -> str | None:
    """The speaker's key if this stage is open in the speaker's browser (see let_this_browser_drive_the_stage)."""
    value = (st.context.cookies or {}).get(STAGE_COOKIE.format(code=code), "")
    return value if SECRET_SHAPE.fullmatch(value) else None


def keyboard(store: TalkStore, talk: Talk, code: str, secret: str) -> None:
    """The speaker's keys (a presenter's clicker sends the same): → or space next, ← back, R reveal, Q QR, B blank."""

    def pressed() -> None:
        action = (st.session_state.get("talk_keys") or {}).get("action")
        if action in ("next", "back", "reveal", "qr", "blank"):
            step(store, talk, code, secret, action)

    _keys(key="talk_keys", on_action_change=pressed)


# ---------------------------------------------------------------- drawing pieces

def heading(text: str) -> None:
    """A stage headline: a div with the heading role (a markdown heading would add an anchor link)."""
    st.html(f'<div class="stage-title" role="heading" aria-level="1">{html.escape(text)}</div>')


def body(markdown: str) -> None:
    """The talk file's own text: markdown with LaTeX."""
    st.markdown(markdown)


def bars(counts: list[tuple[str, int]], highlight: set[str] = frozenset(), limit: int = 8) -> None:
    """The room's answers as bars, most frequent first; the model's words in green with a ✓."""
    shown = counts[:limit]
    if not shown:
        st.html('<div class="stage-body">No answers yet.</div>')
        return
    most = max(count for _, count in shown)
    rows = "".join(
        f'<div class="stage-body">{"✓ " if answer in highlight else ""}{html.escape(answer)}</div>'
        f'<div class="stage-bar{" model" if answer in highlight else ""}" style="width:{100 * count / most:.0f}%" '
        f'aria-hidden="true"></div><div class="stage-body">{count}</div>' for answer, count in shown)
    st.html(f'<div class="stage-bars">{rows}</div>')  # the words and counts read in order; the bars only draw


def tiles(options: list[str], counts: dict[int, int] | None = None, right: int | None = None) -> None:
    """Kahoot-style tiles, each with its colour and shape; after the reveal, the count on each and the right one framed."""
    cells = []
    for index, option in enumerate(options):
        shape, colour = TILES[index]
        count = "" if counts is None else f" · {counts.get(index, 0)}"
        mark = " ✓" if counts is not None and right == index else ""
        cells.append(f'<div class="stage-tile{" right" if mark else ""}" style="background:{colour}">'
                     f'{shape} {html.escape(option)}{count}{mark}</div>')
    st.html(f'<div class="stage-tiles">{"".join(cells)}</div>')


def tile_label(index: int, option: str) -> str:
    return f"{TILES[index][0]} {option}"


def place_line(store: TalkStore, code: str, token: str) -> str:
    mine = store.place(code, token)
    if mine is None:
        return ""
    rank, players, total = mine
    return f"{ordinal(rank)} of {players} · {ui_room.points(total)}"


# ---------------------------------------------------------------- the stage

def stage_css() -> None:
    st.html(STAGE_CSS)


def draw_stage(store: TalkStore, talk: Talk, code: str, progress: Progress) -> None:
    """One beat on the projector, by the room's public code alone."""
    if progress.screen == BLANK:
        st.html('<div style="position:fixed;inset:0;background:#000"></div>')
        return
    if progress.screen == QR:
        heading(f"Join on your phone · room {code}")
        join = ui_join.address(f"{ui_room.PLAY_PAGE}?{ui_room.ROOM_PARAM}={code}")
        st.html(f'<div class="stage-qr"><img alt="QR code of the join address" '
                f'src="data:image/png;base64,{qr_base64(join.url)}"></div>'
                f'<div class="stage-body">{html.escape(join.url)}</div>')
        return
    beat = beat_on(talk, progress)
    heading(beat.title or KINDS[beat.kind])
    body(beat.text)
    if beat.kind == DEMO:
        stage_demo(store, code, beat, progress)
    elif beat.asks:
        stage_question(store, code, beat, progress)
    elif beat.kind == FAKE_OR_REAL:
        stage_round(store, code)
    elif beat.settings.get("podium"):
        stage_podium(store, code)


@st.cache_data(show_spinner=False, max_entries=16)
def qr_base64(url: str) -> str:
    return base64.b64encode(network.qr_code_png(url, 10)).decode()


def stage_question(store: TalkStore, code: str, beat: Beat, progress: Progress) -> None:
    answered, players = store.answered(code, beat.number)
    counts = store.counts(code, beat.number)
    if progress.phase == ASK:
        if beat.kind == CHOICE:
            tiles(beat.settings["options"])
        st.html(f'<div class="stage-big">{answered} of {players} answered</div>'
                f'<div class="stage-note">{html.escape(beat.stakes)}</div>')
        return
    if beat.kind == WORD_GUESS:
        said = progress.model_answers or {}
        words = said.get("words", [])
        left, right = st.columns([3, 2])
        with left:
            st.html('<div class="stage-body"><b>The room said</b></div>')
            bars(counts, set(words))
        with right:
            st.html('<div class="stage-body"><b>The model said</b></div>'
                    + "".join(f'<div class="stage-body">{i}. {html.escape(w)}</div>' for i, w in enumerate(words, 1))
                    + f'<div class="stage-note">{html.escape(said.get("note", ""))}</div>')
    elif beat.kind == CHOICE:
        tiles(beat.settings["options"], {int(a): n for a, n in counts}, beat.settings.get("answer"))
    elif beat.kind == ESTIMATE:
        settings = beat.settings
        winners = [a.name for a in store.answers(code, beat.number) if a.points and a.points >= 3 and not a.hidden]
        st.html(f'<div class="stage-big">{settings["answer"]:g}{html.escape(settings["unit"])}</div>'
                f'<div class="stage-body">Closest: {html.escape(", ".join(winners) or "nobody answered")}</div>')
        bars([(f"{float(a):g}{settings['unit']}", n) for a, n in counts])


@st.cache_resource(show_spinner=False)
def gradient_figure():
    """The gradient curves of the Why LSTM? page's default set-up: worked out once per process, as the stage
    draws its beat twice a second."""
    setup = gradients.GradientSetup()
    return gradients.gradient_figure(gradients.rnn_gradient_norms(setup), gradients.lstm_gradient_norms(setup))


def stage_demo(store: TalkStore, code: str, beat: Beat, progress: Progress) -> None:
    """The live view: the room's words in the explorer's 3D cloud, the gradient curves, or a phone's
    sentence through the gates."""
    view = beat.settings["view"]
    if view == "gradients":
        st.plotly_chart(gradient_figure(), key="stage_gradients", config={"displayModeBar": False})
    elif view == "explorer":
        stage_cloud(store, code, beat)
    elif view == "gates":
        stage_gates(store, code, beat, progress)


def cloud_models() -> list[str]:
    """The embedding models the room may use that have a stored projection (the explorer's cloud)."""
    return [m.key for m in models.embedding_models() if ui_explorer.projected_space(m.key) is not None]


def cloud_scene(key: str, counts: list[tuple[str, int]], word: str = "") -> dict:
    """The model's stored 3D t-SNE cloud (the explorer's, coloured by fashion category) with the room's words
    marked and labelled with how many typed each (a word outside the projected set is placed among its
    nearest projected ones, as the explorer places it), and the talk's own word if it has one."""
    emb, projected = embeddings(key), ui_explorer.projected_space(key)
    counts = [(w, n) for w, n in counts if w in emb][:CLOUD_WORDS]
    typed = {w for w, _ in counts}
    words = [w for w, _ in counts] + ([word] if word in emb and word not in typed else [])
    labels = [f"{w} · {n}" for w, n in counts] + [w for w in words[len(counts):]]
    coords, placed = projected.positions(words, emb, "tsne3") if words else ([], [])
    scene = scenes.explorer_scene(ui_explorer.cloud(key, "tsne3", "category", 0), projected.coordinates("tsne3"),
                                  projected.axis_titles("tsne3"), height=CLOUD_HEIGHT, touch=False)
    scene["marks"] = [{"word": label, "at": [round(float(c), 5) for c in at],
                       "colour": scenes.NEIGHBOUR_COLOUR if i < len(counts) else scenes.QUERY_COLOUR,
                       "size": 18 if i < len(counts) else 14, "shape": "diamond" if out else "circle",
                       "label": "large" if i < len(counts) else "normal", "pick": False,
                       "tip": "placed among its nearest projected words" if out else ""}
                      for i, (label, at, out) in enumerate(zip(labels, coords, placed, strict=True))]
    scene["faded"] = bool(counts)
    scene["description"] += (f"; the room's words: {', '.join(labels[:len(counts)])}" if counts
                             else "; no word from the room yet")
    return scene


def stage_cloud(store: TalkStore, code: str, beat: Beat) -> None:
    key = demo_model(beat, cloud_models())
    if key is None:
        st.html('<div class="stage-note">None of this beat\'s models has a stored projection on this server.</div>')
        return
    answered, players = store.answered(code, beat.number)
    ui_explorer.point_cloud(cloud_scene(key, store.counts(code, beat.number), beat.settings.get("word", "")),
                            key="stage_cloud", on_pick=lambda word: None)
    st.html(f'<div class="stage-note">{answered} of {players} placed a word · the 3D t-SNE of '
            f'{html.escape(key)}</div>')


def stage_gates(store: TalkStore, code: str, beat: Beat, progress: Progress) -> None:
    """A sentence read by the character LSTM, coloured by each gate of its most variable cell unit (the
    LSTM gates page, in big type): where it lets input in, forgets, and shows its memory. The sentence is
    the room's one the speaker chose, else the latest sent, else the talk file's."""
    bundle = demo_model(beat, models.language_model_bundles())
    featured = store.featured_answer(code, beat.number, progress.chosen)
    text = featured.answer if featured else beat.settings["sentence"]
    if bundle is None or not text:
        st.html('<div class="stage-note">No language model or no sentence for this demo: phones send one.</div>')
        return
    layer = ui_gates.gate_trace(bundle, text).layers[-1]
    unit = int(np.argmax(layer["cell"].std(axis=0)))
    rows = "".join(f'<div class="stage-body">{html.escape(gates.NAMES[gate])} (unit {unit})'
                   f'{pieces_html(gates.cell_pieces(text, gate, layer[gate][:, unit]))}</div>'
                   for gate in ("input", "forget", "output", "cell"))
    answered, players = store.answered(code, beat.number)
    source = f"{html.escape(featured.name)}'s sentence" if featured else "The talk's sentence"
    st.html(rows + f'<div class="stage-note">{source} · {answered} of {players} sent one · the character LSTM '
                   f'of {html.escape(bundle)}: blue low, red high.</div>')


def stage_round(store: TalkStore, code: str) -> None:
    """A Fake-or-real round of the talk: the sentence while the room votes, then the truth and the split."""
    room = store.room(code)
    if room.phase == LOBBY:
        st.html('<div class="stage-body">Press → to deal the first sentence.</div>')
        return
    shown = store.round(code, room.current)
    sentence = html.escape(shown.sentences[0].text)
    if room.phase == ROUND:
        voted, players = store.tally(code, room.current)
        st.html(f'<div class="stage-big" style="font-size:2.6vw">“{sentence}”</div>'
                f'<div class="stage-body">Human or LSTM? {voted} of {players} voted · '
                f'“sure” scores +2 / −3, “think so” ±1</div>')
    else:
        truth = "a person" if shown.sentences[0].real else "the LSTM"
        split = {}
        for row in store.split(code, room.current):
            split[row.choice] = split.get(row.choice, 0) + row.votes
        st.html(f'<div class="stage-body" style="font-size:2.2vw">“{sentence}”</div>'
                f'<div class="stage-big">Written by {truth}.</div>'
                f'<div class="stage-body">The room: 🧑 human {split.get(quiz.HUMAN, 0)} · '
                f'🤖 LSTM {split.get(quiz.LSTM, 0)}</div>')


def stage_podium(store: TalkStore, code: str) -> None:
    """The top three; then, for the talk's Fake-or-real rounds, the room against the machines per deck played
    (the lines of room mode's podium, at the stage's size)."""
    standings = store.talk_standings(code)
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    rows = "".join(f'<div class="stage-big" style="font-size:3.5vw">{medals.get(rank, "")} {html.escape(name)} '
                   f'· {total}</div>' for rank, name, total in standings[:3])
    st.html(rows or '<div class="stage-body">Nobody played.</div>')
    if store.decks_played(code):
        st.html('<div class="stage-body"><b>The room against the machines</b>: how often you took a fake for '
                'human, beside careful readers and the strongest detector on the same deck</div>')
        ui_room.against_machines(store, code, store.room(code).bundle)


# ---------------------------------------------------------------- the speaker view

def speaker_answers(store: TalkStore, code: str, secret: str, beat: Beat, progress: Progress) -> None:
    """Every answer, each with a one-click hide (hidden answers leave the stage); a gates demo's sentences
    each with "On stage" too (the stage reads the latest until one is chosen)."""
    answers = store.answers(code, beat.number)
    if not answers:
        st.caption("No answers yet.")
        return
    featured = store.featured_answer(code, beat.number, progress.chosen) if beat.takes_sentence else None
    for answer in answers[-30:]:
        shown = shown_answer(beat, answer.answer)
        left, *right = st.columns([4, 1, 1] if beat.takes_sentence else [4, 1])
        points = "" if answer.points is None or not beat.scores else f" · {ui_room.points(answer.points)}"
        on_stage = " · **on the stage**" if featured and featured.id == answer.id else ""
        left.markdown(f"{'~~' if answer.hidden else ''}{escape_markdown(answer.name)}: "
                      f"{escape_markdown(shown)}{'~~' if answer.hidden else ''}{points}{on_stage}")
        right[-1].button("Show" if answer.hidden else "Hide", key=f"talk_hide_{answer.id}",
                         on_click=hide, args=(store, code, secret, answer.id, not answer.hidden))
        if beat.takes_sentence:
            right[0].button("On stage", key=f"talk_choose_{answer.id}", disabled=answer.hidden or bool(on_stage),
                            on_click=choose, args=(store, code, secret, beat.number, answer.id))


def escape_markdown(text: str) -> str:
    """A player's text shown as itself in markdown: every markdown and HTML character escaped."""
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]()#+-.!|~<>&$" else ch for ch in text)


def hide(store: TalkStore, code: str, secret: str, answer_id: int, hidden: bool) -> None:
    try:
        store.hide_answer(code, secret, answer_id, hidden)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


def choose(store: TalkStore, code: str, secret: str, beat: int, answer_id: int) -> None:
    try:
        store.choose_answer(code, secret, beat, answer_id)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


def describe_beat(beat: Beat | None) -> str:
    if beat is None:
        return "(the end)"
    return f"{beat.number}. {KINDS[beat.kind]}: {beat.title or beat.text[:60]}"


def clock(started: float) -> str:
    elapsed = int(time.time() - started)
    return f"{time.strftime('%H:%M')} · {elapsed // 60} min into the talk"


# ---------------------------------------------------------------- the phones

def phone_css() -> None:
    st.html(SPEAKER_CSS)


def send_answer(store: TalkStore, code: str, token: str, beat: Beat, raw: str) -> None:
    """Callback: this phone's answer; refusals (closed, twice, not a word the model knows) are shown."""
    try:
        if beat.takes_words:
            unknown = unknown_word(beat, raw)
            if unknown:
                st.session_state[MESSAGE_KEY] = unknown
                return
        store.answer(code, token, beat, raw)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


def unknown_word(beat: Beat, raw: str) -> str:
    """Why a word cannot be taken (not in the answering model's vocabulary, with close ones), or ""."""
    word = normalise_answer(raw)
    if beat.settings.get("task") in ("next_word", "fixed") or not word:
        return ""
    if beat.kind == DEMO:  # the explorer's cloud: the model it shows
        key = demo_model(beat, cloud_models())
    else:
        key = answering_model(beat, embeddings, available_models())
    if key is None:
        return ""
    vectors = embeddings(key)
    if word in vectors:
        return ""
    close = vectors.suggest(word, 3)
    return f"“{word}” is not in the model's vocabulary." + (f" Did you mean {', '.join(close)}?" if close else "")


def phone_beat(store: TalkStore, talk: Talk, code: str, token: str, progress: Progress) -> None:
    """The beat on screen, on a phone: its question with big tiles and the stakes; after the reveal, points and place."""
    beat = beat_on(talk, progress)
    ui_room.big_text(beat.title or KINDS[beat.kind], 1.4)
    if not beat.asks:
        st.info("Look at the big screen.")
        ui_room.big_text(place_line(store, code, token), 1.2, "Your place in the room")
        return
    mine = store.player_answer(code, token, beat.number)
    if progress.phase == ASK and mine is None:
        st.markdown(beat.text)
        st.caption(beat.stakes)
        ui_room.show_message()
        if beat.takes_words:
            st.text_input("Your word", max_chars=40, key=f"talk_word_{beat.number}")
            st.button("Send", type="primary", width="stretch", key="talk_send", on_click=lambda: send_answer(
                store, code, token, beat, st.session_state.get(f"talk_word_{beat.number}", "")))
        elif beat.takes_sentence:
            # no max_chars: the browser would cut a longer paste without a word; Send says why it is refused
            st.text_input("Your sentence", placeholder=f"up to {SENTENCE_MAX} characters",
                          key=f"talk_sentence_{beat.number}")
            st.button("Send", type="primary", width="stretch", key="talk_send", on_click=lambda: send_answer(
                store, code, token, beat, st.session_state.get(f"talk_sentence_{beat.number}", "")))
        elif beat.kind == CHOICE:
            for index, option in enumerate(beat.settings["options"]):
                st.button(tile_label(index, option), key=f"talk_tile_{index}", width="stretch",
                          on_click=send_answer, args=(store, code, token, beat, str(index)))
        elif beat.kind == ESTIMATE:
            s = beat.settings
            st.slider(f"Your estimate{' (' + s['unit'] + ')' if s['unit'] else ''}", s["min"], s["max"],
                      (s["min"] + s["max"]) / 2, s["step"], key=f"talk_estimate_{beat.number}")
            st.button("Send", type="primary", width="stretch", key="talk_estimate_send", on_click=lambda: send_answer(
                store, code, token, beat, str(st.session_state.get(f"talk_estimate_{beat.number}", ""))))
        return
    if mine is not None:
        shown = gates.markdown_literal(shown_answer(beat, mine.answer))
        if beat.kind == DEMO:
            st.success(f"Yours: {shown}. Look at the big screen.")
        elif mine.points is None:
            st.success(f"Your answer: {shown}. Waiting for the reveal…")
        elif not beat.scores:
            st.info(f"Your answer: {shown}")
        else:
            (st.success if mine.points else st.info)(f"Your answer: {shown} · {ui_room.points(mine.points)}")
    else:
        st.info("The answers to this one are closed.")
    if progress.phase == REVEALED:
        ui_room.big_text(place_line(store, code, token), 1.6, "Your place in the room")


def rejoin_note(token: str) -> None:
    """This phone's rejoin code, on the phone only (never on the stage): with the nickname, it brings the
    player back from another browser."""
    st.caption(f"Your rejoin code: **{rejoin_code(token)}**. Lost this page (another browser, cleared data)? "
               f"Open the room again and rejoin with your nickname and this code: your points stay yours. "
               f"Keep it to yourself.")


def rejoin_form(store: TalkStore, code: str) -> None:
    """On the join screen: come back as a player of this room, by nickname and rejoin code."""
    # Labels without "join" or "nickname": the join screen's own field and button keep their names alone
    with st.expander("Been here before? Come back with your code"):
        st.text_input("The name you joined with", key="talk_rejoin_name")
        st.text_input("Your rejoin code (on your phone's room page)", max_chars=12, key="talk_rejoin_code")
        st.button("Come back as this player", key="talk_rejoin", width="stretch", on_click=rejoin, args=(store, code))


def rejoin(store: TalkStore, code: str) -> None:
    """Button callback: the player's token goes into the address, as joining puts a new one there."""
    try:
        token = store.rejoin(code, st.session_state.get("talk_rejoin_name", ""),
                             st.session_state.get("talk_rejoin_code", ""))
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)
        return
    st.query_params[ui_room.PLAYER_PARAM] = token


# ---------------------------------------------------------------- after the talk: the results page

def results_address(code: str) -> str:
    """The results page of a room: its public code only, safe to share."""
    return f"{RESULTS_PAGE}?{ui_room.ROOM_PARAM}={code}"


def results_podium(standings: list[tuple[int, str, int]]) -> None:
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}  # by rank: two players tied first both get gold
    if not standings:
        st.info("Nobody played.")
        return
    for column, (rank, name, total) in zip(st.columns(3), standings[:3], strict=False):
        with column.container(border=True):
            ui_room.big_text(f"{medals.get(rank, '')} {name}", 1.8)
            st.caption(f"{ordinal(rank)} · {ui_room.points(total)}")


def beat_results(results: list[BeatResult]) -> None:
    """Each revealed beat: the question, the right answer or the model's, and the room's top answers."""
    if not results:
        st.info("No question has been revealed yet.")
    for result in results:
        beat, said = result.beat, result.said
        with st.container(border=True):
            st.markdown(f"**{beat.number}. {escape_markdown(beat.title or KINDS[beat.kind])}** · "
                        f"{KINDS[beat.kind]} · {result.answered} answer{'s' * (result.answered != 1)}")
            st.markdown(beat.text)
            if said.get("words"):
                st.markdown(f"The model: {escape_markdown(', '.join(said['words']))}")
            if beat.kind == CHOICE and beat.settings["answer"] is not None:
                st.markdown(f"Right: {escape_markdown(beat.settings['options'][beat.settings['answer']])}")
            if beat.kind == ESTIMATE:
                st.markdown(f"Answer: {beat.settings['answer']:g}{escape_markdown(beat.settings['unit'])}")
            room = " · ".join(f"{escape_markdown(answer)} ({count})" for answer, count in result.counts[:10])
            st.markdown(f"The room: {room or 'every answer hidden'}")
