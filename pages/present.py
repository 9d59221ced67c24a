"""Room mode, the presenter's screen: set up a room, show the join code, run the rounds, reveal, podium."""

import streamlit as st

from app.game import quiz
from app.game.room import LOBBY, OVER, REVEAL, ROUND, NotPresenter, RoomError, RoomUnavailable
from app.ui import join as ui_join
from app.ui import quiz as ui_quiz
from app.ui import room as ui_room

st.title("Room mode", anchor=False)  # no anchor links: this address holds the presenter key
rooms = ui_room.store_or_stop()

code, secret = ui_room.room_code(), ui_room.param(ui_room.KEY_PARAM)
if not code:
    st.markdown("Put this screen on the projector. The room votes from their phones on each sentence; "
                "then the truth, the room's split and the model's view of the sentence.")
    bundle_names, notices = ui_quiz.playable_bundles()
    for notice in notices:
        st.info(notice)
    ui_room.setup_form(rooms, bundle_names)
    st.stop()

try:
    room = rooms.presenter_room(code, secret)  # also this screen's heartbeat: a paused room resumes
except NotPresenter as e:
    st.error(f"{e} Phones join at the **{ui_room.PLAY_PAGE}** page; to run a room of your own, create one.")
    st.button("Create a new room", on_click=ui_room.leave_room, key="room_new")
    st.stop()
except (RoomError, RoomUnavailable) as e:
    st.error(str(e))
    st.button("Create a new room", on_click=ui_room.leave_room, key="room_new")
    st.stop()
ui_room.show_message()


def act(action: str) -> None:
    ui_room.presenter_action(rooms, action, code, secret)


@st.fragment(run_every=ui_room.POLL)
def live():
    """Every second: the presenter's heartbeat, the countdown and the counts; a new phase redraws the page."""
    try:
        now_room = rooms.presenter_room(code, secret)
        if room.phase == LOBBY:
            ui_room.big_text(f"{rooms.player_count(code)} joined", 2.5)
        elif room.phase == ROUND:
            voted, players = rooms.tally(code, room.current)
            left = rooms.round(code, room.current).seconds_left()
            ui_room.big_text(f"⏱ {left:.0f} s" if left > 0 else "⏱ Time's up", 3)
            ui_room.big_text(f"{voted} of {players} voted", 2)
    except (RoomError, RoomUnavailable) as e:
        st.warning(str(e))
        return
    ui_room.rerun_on_change((room.phase, room.current), (now_room.phase, now_room.current))


st.caption(f"Room **{code}** · {room.bundle} · {ui_quiz.deck_name(room.bundle, room.difficulty)} · {quiz.MODES[room.mode]} · "
           f"{room.rounds} rounds of {room.countdown} s. To reopen this screen, use this page's address: it holds "
           f"the presenter key (keep it off the projector).")

if room.phase == LOBBY:
    code_column, join_column = st.columns(2)
    with code_column:
        ui_room.big_text(code, 6, "Room code")
        live()
        st.button("Start round 1", type="primary", on_click=act, args=("start",), key="room_start")
    with join_column:
        ui_join.join_panel(f"{ui_room.PLAY_PAGE}?{ui_room.ROOM_PARAM}={code}", key="room_join")

elif room.phase == ROUND:
    shown = rooms.round(code, room.current)
    st.header(f"Round {room.current} of {room.rounds} · {ui_quiz.deck_name(room.bundle, shown.difficulty)}", anchor=False)
    sentence_column, count_column = st.columns([3, 1])
    with sentence_column:
        ui_room.show_sentences(shown.sentences, 2.0)
    with count_column:
        live()
        st.button("Reveal", type="primary", on_click=act, args=("reveal",), key="room_reveal")

elif room.phase == REVEAL:
    shown = rooms.round(code, room.current)
    st.header(f"Round {room.current} of {room.rounds}: the reveal", anchor=False)
    ui_room.big_text(ui_room.truth_headline(shown.sentences), 2.4)
    last = room.current >= room.rounds  # the next step first: it stays on a 1080 px screen
    st.button("Show the podium" if last else f"Start round {room.current + 1}", type="primary",
              on_click=act, args=("finish" if last else "start",), key="room_next")
    st.markdown("**The room said**")
    ui_room.show_split(room.mode, rooms.split(code, room.current))
    by = st.radio("Colour by", ["word", "character"], horizontal=True, key="room_reveal_by")
    ui_quiz.show_model_view(room.bundle, shown.sentences, by)

elif room.phase == OVER:
    st.header("The podium", anchor=False)
    if 0 < room.current < room.rounds:
        st.caption(f"Ended after round {room.current} of {room.rounds}.")
    ui_room.results(rooms, code)
    st.markdown("**The room against the machines**: how often the room took a fake for human, beside careful "
                "readers and the strongest detector on the same deck")
    ui_room.against_machines(rooms, code, room.bundle)
    st.button("Create a new room", on_click=ui_room.leave_room, key="room_new")

if room.phase in (ROUND, REVEAL):
    st.button("End the game now (podium)", on_click=act, args=("finish",), key="room_end")
if room.phase in (REVEAL, OVER):
    live()  # no counts to show, but the room must know this screen is still here
