"""Streamlit helpers of room mode: the presenter's screen (pages/present.py) and the phones (pages/play.py).

State lives in SQL (``app/game/room.py``); the address holds who is who: ``?room=CODE`` for everyone,
``&key=SECRET`` on the presenter's screen only, ``&player=TOKEN`` on a phone once it has joined (a
reload or a lost connection comes back as the same player). The presenter's page draws its phase in a
full run and keeps a small fragment that polls the database every second for the countdown and the counts.
A phone's page is one fragment watched by its browser (``watch_room``): it reruns when the room moves on.
"""

from __future__ import annotations

import random
import re

import streamlit as st

from app.game import quiz
from app.game.leaderboard import ordinal
from app.game.room import (
    COUNTDOWN_RANGE,
    DEFAULT_COUNTDOWN,
    MAX_ROUNDS,
    MIXED,
    REVEAL,
    ROUND,
    PhoneStatus,
    RoomError,
    RoomStore,
    RoomUnavailable,
    SplitRow,
    Standing,
    difficulty_plan,
    normalise_code,
)
from app.game.room_feed import FEED_PATH
from app.lessons.highlight import Piece, pieces_html
from app.serving import streamlit_seam
from app.ui import quiz as ui_quiz

ROOM_PARAM, KEY_PARAM, PLAYER_PARAM = "room", "key", "player"
PLAY_PAGE = "play"  # url_path of the phones' page (app/serving/site.py)
POLL = "1s"  # the presenter's screen redraws its countdown and counts this often
MESSAGE_KEY = "room_message"  # a refusal to show on the next run (a late vote, say)
CHOICE_NAMES = {quiz.HUMAN: "🧑 Human", quiz.LSTM: "🤖 LSTM", "A": "A is real", "B": "B is real"}


# ---------------------------------------------------------------- the store and the address

@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> RoomStore:
    return RoomStore(url)  # a failure raises and is not cached: the next run tries again


def store_or_stop() -> RoomStore:
    """The rooms' store; when the database cannot be used, why, in the page, and the run stops."""
    try:
        return _store(ui_quiz.database_url())
    except RoomUnavailable as e:
        st.error(str(e))
        st.stop()


def param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value or None


def room_code() -> str | None:
    return normalise_code(param(ROOM_PARAM)) or None


def leave_room() -> None:
    st.query_params.clear()


# ---------------------------------------------------------------- set-up (presenter)

DIFFICULTY_CHOICES = [*quiz.DIFFICULTIES, MIXED]


def deal(bundle: str, setting: str, mode: str, count: int) -> list[tuple[str, list[quiz.Sentence]]]:
    """count rounds from the bundle's shared supply, each with its difficulty (MIXED: easy to hard)."""
    plan = difficulty_plan(setting, count)
    rng = random.Random()
    games = {level: iter(ui_quiz.supply(bundle).deal_game(level, mode, rng).rounds) for level in dict.fromkeys(plan)}
    return [(level, next(games[level]).sentences) for level in plan]


def create_room(rooms: RoomStore, bundle: str, setting: str, mode: str, count: int, countdown: int) -> None:
    """Deal the rounds, make the room and put its code and presenter key in this screen's address."""
    try:
        with st.spinner("Dealing sentences… (the first game of a model reads its corpus first)"):
            dealt = deal(bundle, setting, mode, count)
        code, secret = rooms.create_room(bundle, mode, setting, dealt, countdown)
    except (RoomError, RoomUnavailable, RuntimeError, OSError) as e:
        st.error(f"The room could not be made: {e}")
        return
    st.query_params.from_dict({ROOM_PARAM: code, KEY_PARAM: secret})
    st.rerun()


def setup_form(rooms: RoomStore, bundles: list[str]) -> None:
    if not bundles:  # the notices above say why
        st.warning("No model can be played here now, so no room can be created.")
        return
    # the model outside the form: what the form offers depends on it (a form reruns only when submitted)
    bundle = st.selectbox("Model", bundles, key="room_bundle")
    with st.form("room_setup"):
        difficulty_column, mode_column = st.columns(2)
        if ui_quiz.writes_live(bundle):  # no stored decks: a difficulty would mean nothing
            setting = quiz.DEFAULT_DIFFICULTY
            difficulty_column.caption(ui_quiz.LIVE_FAKES_NOTE)
        else:
            setting = difficulty_column.radio("Difficulty", DIFFICULTY_CHOICES, index=1, horizontal=True,
                                              key="room_difficulty", help="mixed: from easy to hard as the game goes on")
        mode = mode_column.radio("Mode", list(quiz.MODES), format_func=quiz.MODES.get, horizontal=True,
                                 key="room_mode")
        count_column, countdown_column = st.columns(2)
        count = count_column.number_input("Rounds", 1, MAX_ROUNDS, 5, key="room_rounds")
        countdown = countdown_column.number_input("Countdown (seconds)", *COUNTDOWN_RANGE, DEFAULT_COUNTDOWN,
                                                  key="room_countdown")
        if st.form_submit_button("Create the room", type="primary"):
            create_room(rooms, bundle, setting, mode, int(count), int(countdown))


# ---------------------------------------------------------------- drawing

def big_text(text: str, rem: float = 2.0, label: str = "") -> None:
    """Escaped text in large type (for the projector), optionally under a small label."""
    if label:
        st.caption(label)
    st.markdown(f'<div style="font-size:{rem}rem">{pieces_html([Piece(text, "transparent")])}</div>',
                unsafe_allow_html=True)


def truth_headline(sentences: list[quiz.Sentence]) -> str:
    """The reveal's headline: "It was written by the LSTM." or "Sentence B was the real one." """
    if len(sentences) == 1:
        return f"It was written by {'a person' if sentences[0].real else 'the LSTM'}."
    return f"Sentence {'AB'[[s.real for s in sentences].index(True)]} was the real one."


def stakes() -> str:
    """What each confidence scores, for the ballot ("sure" risks more than it wins)."""
    return " · ".join(f"**{name}**: {right:+d} if right, {wrong:+d} if wrong"
                      for name, (right, wrong) in quiz.POINTS.items())


def show_sentences(sentences: list[quiz.Sentence], rem: float) -> None:
    for index, sentence in enumerate(sentences):
        with st.container(border=True):
            big_text(sentence.text, rem, f"Sentence {'AB'[index]}" if len(sentences) > 1 else "Human or LSTM?")


def show_split(mode: str, rows: list[SplitRow]) -> None:
    """The room's votes: each choice as a bar, with how many were sure."""
    total = sum(r.votes for r in rows)
    for choice in ((quiz.HUMAN, quiz.LSTM) if mode == "single" else ("A", "B")):
        votes = {r.confidence: r.votes for r in rows if r.choice == choice}
        count = sum(votes.values())
        share = count / total if total else 0.0
        detail = ", ".join(f"{votes.get(c, 0)} {c}" for c in quiz.CONFIDENCES)
        st.progress(share, text=f"**{CHOICE_NAMES[choice]}**: {count} vote{'s' * (count != 1)} ({share:.0%}) · {detail}")


def standing_rows(standings: list[Standing]) -> list[dict]:
    """Rows for st.dataframe, which shows nicknames as plain text."""
    return [{"#": s.rank, "player": s.name, "points": s.points, "right": f"{s.correct} of {s.answered}"}
            for s in standings]


def podium(standings: list[Standing]) -> None:
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}  # by rank: two players tied first both get gold
    columns = st.columns(3)
    for column, standing in zip(columns, standings[:3], strict=False):
        with column.container(border=True):
            big_text(f"{medals.get(standing.rank, '')} {standing.name}", 1.8)
            st.caption(f"{ordinal(standing.rank)} · {points(standing.points)} · {standing.correct} right")


def results(rooms: RoomStore, code: str) -> None:
    """A finished room's results: the podium and the whole board (the presenter's screen and the phones)."""
    standings = rooms.standings(code)
    if not standings:
        st.markdown("Nobody joined this room.")
        return
    podium(standings)
    st.markdown(f"**The whole room** ({len(standings)} player{'s' * (len(standings) != 1)})")
    st.dataframe(standing_rows(standings), hide_index=True, key="room_board")


def against_machines(rooms: RoomStore, code: str, bundle: str) -> None:
    """Per deck the room played: how often the room was fooled, beside careful readers and the strongest
    detector on that deck ("this room fooled 58% · careful readers right 71% · best machine right 57%")."""
    fooled = rooms.fooled_rate(code)
    if not any(row.fakes_judged for row in fooled):
        st.markdown("No one voted on a fake sentence, so there is no rate of how often the room was fooled.")
    for difficulty in rooms.decks_played(code):
        if line := ui_quiz.people_against_machines(bundle, difficulty, fooled=fooled):
            st.markdown(line)


def show_message() -> None:
    """A message left by a button callback (callbacks run before the page draws)."""
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.warning(message)


def rerun_on_change(shown_key: tuple, now_key: tuple) -> None:
    """Called by a polling fragment: redraw the whole page when the phase it was drawn for is gone."""
    if now_key != shown_key:
        st.rerun(scope="app")


# ---------------------------------------------------------------- the presenter's buttons

def presenter_action(rooms: RoomStore, action: str, code: str, secret: str) -> None:
    """Button callback: start / reveal / finish, refused with a message for anyone but the presenter."""
    try:
        {"start": rooms.start_round, "reveal": rooms.reveal, "finish": rooms.finish}[action](code, secret)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


# ---------------------------------------------------------------- the phone's buttons

def phone_status(rooms: RoomStore, code: str, token: str | None) -> PhoneStatus | None:
    """The room's state for this phone, or None after showing why the room cannot be played."""
    try:
        status = rooms.phone_status(code, token)
    except (RoomError, RoomUnavailable) as e:
        st.error(str(e))
        return None
    if status.expired:
        st.error(f"Room {status.code} has expired: ask for the code on the screen.")
        return None
    return status


def player_name(rooms: RoomStore, code: str, token: str) -> str:
    """This phone's name on the room's board ("Alice #2"): read once per session, as it never changes."""
    remembered = st.session_state.get("room_player_name")
    if remembered is None or remembered[:2] != (code, token):
        remembered = (code, token, rooms.player_name(code, token) or "?")
        st.session_state["room_player_name"] = remembered
    return remembered[2]


def join(rooms: RoomStore, code: str) -> None:
    """Button callback: join with the nickname typed; the token goes into the address."""
    try:
        token = rooms.join(code, st.session_state.get("room_nickname", ""))
    except (ValueError, RoomUnavailable) as e:  # a bad nickname, a finished room, a broken database
        st.session_state[MESSAGE_KEY] = str(e)
        return
    st.query_params[PLAYER_PARAM] = token


def vote(rooms: RoomStore, code: str, token: str, number: int, picked: int, says_real: bool) -> None:
    """Button callback: this phone's vote, with the confidence picked; refusals are shown, not raised."""
    confidence = st.session_state.get("room_confidence") or quiz.CONFIDENCES[0]
    try:
        rooms.vote(code, token, number, picked, says_real, confidence)
    except (RoomError, RoomUnavailable) as e:
        st.session_state[MESSAGE_KEY] = str(e)


def describe_vote(sentences: int, vote: dict) -> str:
    """ "🧑 Human (sure)" or "A is real (think so)"."""
    if sentences == 2:
        choice = "A" if vote["picked"] == 0 else "B"
    else:
        choice = quiz.HUMAN if vote["says_real"] else quiz.LSTM
    return f"{CHOICE_NAMES[choice]} ({vote['confidence']})"


def player_line(standings: list[Standing], player_id: int) -> str:
    """ "14th of 63 · 7 points" for this player."""
    mine = next((s for s in standings if s.player_id == player_id), None)
    if mine is None:
        return ""
    return f"{ordinal(mine.rank)} of {len(standings)} · {points(mine.points)}"


def points(count: int) -> str:
    return f"{count} point{'s' * (abs(count) != 1)}"


# ---------------------------------------------------------------- the phone's page

# Styled through the st-key-<key> class Streamlit gives a keyed widget (the documented hook). The main
# column's top padding has none: its selector is Streamlit's own markup, kept in app/serving/streamlit_seam.py.
PHONE_CSS = f"""<style>
{streamlit_seam.MAIN_BLOCK_SELECTOR} {{padding-top: 4.5rem;}}
{streamlit_seam.MAIN_BLOCK_SELECTOR} h1 {{font-size: 1.6rem; padding: 0;}}
.st-key-room_human button, .st-key-room_lstm button, .st-key-room_a button, .st-key-room_b button
    {{min-height: 4.5rem; color: #000; border: none;}}
.st-key-room_human button p, .st-key-room_lstm button p, .st-key-room_a button p, .st-key-room_b button p
    {{font-size: 1.6rem; font-weight: 700;}}
.st-key-room_human button, .st-key-room_a button {{background: #56B4E9;}}
.st-key-room_lstm button, .st-key-room_b button {{background: #E69F00;}}
</style>"""


def phone_layout() -> None:
    """The title clear of Streamlit's 60 px header (4.5rem), and vote buttons a thumb cannot miss, told
    apart by colour (Okabe-Ito blue and orange, black text: contrast over 7:1) and by their words."""
    st.html(PHONE_CSS)


def go_to_room(typed: str) -> None:
    code = normalise_code(typed)
    if code:
        st.query_params.from_dict({ROOM_PARAM: code})
        st.rerun()
    st.warning("Type the room code shown on the big screen.")


# The phone's browser asks the room feed (app/game/room_feed.py) whether its page is out of date; the answer
# comes when the room moves on, and the clock's next tick reruns the room fragment. Between changes the
# clock counts the countdown down by itself. Without the feed (a plain `streamlit run streamlit_app.py`)
# the fragment reruns once a second instead. A phone whose timers stop shows what it showed.
WATCH_JS = """
export default function ({ data, parentElement, setTriggerValue }) {
  const clock = parentElement.querySelector(".room-clock");
  const drawnAt = performance.now(), stop = new AbortController();
  let now = data.drawn_for;  // what the room is at, as the feed last said
  const ask = async () => {
    const address = new URL(data.feed, window.location.origin);
    address.searchParams.set("drawn_for", data.drawn_for);
    while (!stop.signal.aborted && now === data.drawn_for) {
      try {
        const answer = await fetch(address, { cache: "no-store", signal: stop.signal });
        if (!answer.ok) throw new Error(String(answer.status));
        now = (await answer.json()).drawn_for;
      } catch (error) {
        if (stop.signal.aborted) return;
        await new Promise((wake) => setTimeout(wake, 1000));
        now = "no feed";  // no feed here, the room is gone or the network hiccuped: a plain rerun
      }
    }
  };
  const tick = () => {
    if (now !== data.drawn_for) {
      stop.abort(); clearInterval(ticking); setTriggerValue("changed", now); return;
    }
    if (data.seconds_left === null) { clock.textContent = ""; return; }
    const left = Math.max(0, data.seconds_left - (performance.now() - drawnAt) / 1000);
    clock.textContent = left > 0 ? `⏱ ${Math.ceil(left)} s left` : "⏱ Time's up";
  };
  const ticking = setInterval(tick, 100);
  // Streamlit calls this again with each run's data and keeps only the newest cleanup: end the last watch here
  parentElement.__endWatch?.();
  parentElement.__endWatch = () => { stop.abort(); clearInterval(ticking); };
  tick();
  ask();
  return parentElement.__endWatch;
}
"""
WATCH_CSS = ".room-clock { font-size: 1.25rem; font-weight: 600; color: var(--st-text-color); min-height: 1.5rem; }"
_watcher = st.components.v2.component("room_watch", html='<div class="room-clock" role="timer"></div>',
                                      css=WATCH_CSS, js=WATCH_JS)


def watch_room(status: PhoneStatus, now: float, talk_key: str = "") -> None:
    """The countdown, and the rerun of the calling fragment when the room moves on (see WATCH_JS);
    talk_key: where the room's talk is (app/game/talk_room.py), which the room feed adds too."""
    counting = status.phase == ROUND and status.plays_this_round and not status.paused(now)
    _watcher(key="room_watch", on_changed_change=lambda: None,
             data={"feed": FEED_PATH.format(code=status.code), "drawn_for": status.drawn_for(now) + (f"/{talk_key}" if talk_key else ""),
                   "seconds_left": round(status.seconds_left(now), 2) if counting else None,
                   "drawn_at": now})  # drawn_at: every run restarts the watcher


def vote_buttons(rooms: RoomStore, status: PhoneStatus, token: str, shown) -> None:
    left, right = st.columns(2)
    if len(shown.sentences) == 1:
        choices = [(left, "🧑 Human", "room_human", 0, True), (right, "🤖 LSTM", "room_lstm", 0, False)]
    else:
        choices = [(left, "A is real", "room_a", 0, True), (right, "B is real", "room_b", 1, True)]
    for column, label, key, picked, says_real in choices:
        column.button(label, key=key, type="primary", width="stretch", on_click=vote,
                      args=(rooms, status.code, token, status.current, picked, says_real))


def show_result(rooms: RoomStore, status: PhoneStatus) -> None:
    """After a reveal: right or wrong, the points, the truth; and the player's rank in the room."""
    if status.phase == REVEAL:
        truth = truth_headline(rooms.round(status.code, status.current).sentences)
        if not status.plays_this_round:
            st.info(f"You joined after this round began: you play from the next one. {truth}")
        elif status.vote is None:
            st.info(f"You did not vote on this one. {truth}")
        else:
            verdict = f"{'Right' if status.vote['correct'] else 'Wrong'}! {status.vote['points']:+d} " \
                      f"point{'s' * (abs(status.vote['points']) != 1)}"
            (st.success if status.vote["correct"] else st.error)(f"{verdict}. {truth}")
    big_text(player_line(rooms.standings(status.code), status.player_id), 1.6, "Your place in the room")


# ---------------------------------------------------------------- a finished room

ROOM_COOKIE = "atelier_room_{code}"  # the player this browser is in a room: its token
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what secrets.token_urlsafe gives (app/game/room.py)


def player_cookie(code: str, token: str) -> tuple[str, str]:
    """The cookie (name, value) that tells a browser which player it is in this room: opened again at the
    room's bare address after the game (its QR code scanned anew), it is shown its own place."""
    return ROOM_COOKIE.format(code=code), token


def remembered_player(code: str) -> str | None:
    token = (st.context.cookies or {}).get(ROOM_COOKIE.format(code=code), "")
    return token if TOKEN.fullmatch(token) else None


def game_over(status: PhoneStatus) -> str:
    """What a phone says when the game is over, and when the presenter ended it early, after which round."""
    if status.ended_early:
        return f"Game over: the presenter ended it {status.ended_when}. Thanks for playing!"
    return "Game over: thanks for playing!"


def finished_room(rooms: RoomStore, status: PhoneStatus) -> None:
    """A phone at a finished room's address, not (or no longer) in it by its address: the game is over,
    at once, with its results, and this browser's own place when it played here."""
    ended = f": the presenter ended it {status.ended_when}" if status.ended_early else ""
    st.info(f"Room {status.code}'s game is over{ended}. Here is how it went; meanwhile, play "
            f"[Fake or real?](fake-or-real) on your own.")
    token = remembered_player(status.code)
    mine = rooms.phone_status(status.code, token) if token else None
    if mine is not None and mine.joined:
        big_text(f"{player_name(rooms, status.code, token)}: "
                 f"{player_line(rooms.standings(status.code), mine.player_id)}", 1.6, "Your place in the room")
    results(rooms, status.code)
