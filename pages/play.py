"""Room mode on a phone: join with a nickname, vote on each sentence, see if you were right and your rank."""

import time

import streamlit as st

from app import quiz
from app.nicknames import NICKNAME_MAX
from app.room import LOBBY, OVER, REVEAL, ROUND
from app.ui import room as ui_room

ui_room.phone_layout()
st.title("Join a room")
rooms = ui_room.store_or_stop()

code, token = ui_room.room_code(), ui_room.param(ui_room.PLAYER_PARAM)
status = ui_room.phone_status(rooms, code, token) if code else None
if status is None:  # no code yet, or one that does not work (the reason is shown above)
    with st.form("room_code_form"):
        typed = st.text_input("Room code (it is on the big screen)", max_chars=8, key="room_code_typed")
        if st.form_submit_button("Go", type="primary", width="stretch"):
            ui_room.go_to_room(typed)
    st.stop()

if not status.joined:
    st.markdown(f"Room **{status.code}**: pick a nickname for the room's board.")
    ui_room.show_message()
    st.text_input("Nickname", max_chars=NICKNAME_MAX, key="room_nickname")
    st.button("Join", type="primary", on_click=ui_room.join, args=(rooms, status.code), key="room_join",
              width="stretch")
    st.stop()

drawn_at = time.time()
where = f"round {status.current} of {status.rounds}" if status.current else "lobby"
ui_room.big_text(f"{rooms.player_name(status.code, token)} · room {status.code} · {where}", 0.9)


@st.fragment(run_every=ui_room.POLL)
def live():
    """Every second, one small query: the countdown, a pause; a new phase redraws the page."""
    current = ui_room.phone_status(rooms, status.code, token)
    if current is None:
        return
    moment = time.time()
    if current.paused(moment) and current.phase != OVER:
        st.warning("The presenter's screen is away: the room is paused until it is back.")
    elif current.phase == ROUND and current.plays_this_round:
        left = current.seconds_left(moment)
        st.markdown(f"⏱ **{left:.0f} s** left" if left > 0 else "⏱ Time's up")
    ui_room.rerun_on_change(ui_room.phone_key(status, drawn_at), ui_room.phone_key(current, moment))


@st.fragment
def ballot():
    """The sentence and the vote: a click reruns only this, which is all a room of phones voting at once costs."""
    mine = ui_room.phone_status(rooms, status.code, token)
    if mine is None:
        return
    ui_room.show_message()
    if mine.can_vote(time.time()):
        shown = rooms.round(mine.code, mine.current)
        ui_room.show_sentences(shown.sentences, 1.25)
        st.radio("How sure are you?", quiz.CONFIDENCES, horizontal=True, key="room_confidence")
        ui_room.vote_buttons(rooms, mine, token, shown)
    elif mine.vote:
        st.success(f"Your vote: {ui_room.describe_vote(len(rooms.round(mine.code, mine.current).sentences), mine.vote)}."
                   f" Waiting for the reveal…")
    elif not mine.plays_this_round:
        st.info("You joined during this sentence: you play from the next one.")
    else:
        st.info("Waiting for the reveal…")


live()
if status.phase == LOBBY:
    st.info("You're in! Waiting for the first sentence…")

elif status.phase == ROUND:
    ballot()

elif status.phase in (REVEAL, OVER):
    ui_room.show_result(rooms, status)
    if status.phase == REVEAL:
        st.info("Waiting for the next sentence…")
    else:
        st.subheader("Game over: thanks for playing!")
