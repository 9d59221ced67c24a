"""Room mode on a phone: join with a nickname, vote on each sentence, see if you were right and your rank."""

import time

import streamlit as st

from app.game import quiz
from app.game.nicknames import NICKNAME_MAX
from app.game.room import LOBBY, OVER, REVEAL, ROUND
from app.game.talk import FAKE_OR_REAL
from app.ui import room as ui_room
from app.ui import serve as ui_serve
from app.ui import stage as ui_stage

ui_room.phone_layout()
ui_stage.phone_css()  # a talk's tiles: colour and shape
st.title("Join a room")
rooms = ui_stage.store_or_stop()  # rooms, and the talks some of them run

code, token = ui_room.room_code(), ui_room.param(ui_room.PLAYER_PARAM)
status = ui_room.phone_status(rooms, code, token) if code else None
if status is None:  # no code yet, or one that does not work (the reason is shown above)
    with st.form("room_code_form"):
        typed = st.text_input("Room code (it is on the big screen)", max_chars=8, key="room_code_typed")
        if st.form_submit_button("Go", type="primary", width="stretch"):
            ui_room.go_to_room(typed)
    st.stop()

if not status.joined and status.phase == OVER:  # no nickname to ask for: the results, at once
    ui_room.finished_room(rooms, status)
    st.stop()

if not status.joined:
    st.markdown(f"Room **{status.code}**: pick a nickname for the room's board.")
    ui_room.show_message()
    # No max_chars: the browser would drop a longer paste without a word; Join says why it is refused.
    st.text_input("Nickname", placeholder=f"up to {NICKNAME_MAX} characters", key="room_nickname")
    st.button("Join", type="primary", on_click=ui_room.join, args=(rooms, status.code), key="room_join",
              width="stretch")
    ui_stage.rejoin_form(rooms, status.code)  # a player whose phone lost its token: nickname and rejoin code
    st.stop()

name = ui_room.player_name(rooms, status.code, token)
ui_serve.set_cookie(*ui_room.player_cookie(status.code, token))  # its own score, should it come back after the game
READ_THIS_RUN = "room_status_read"  # room_view's reading, handed to the ballot it draws in the same run


@st.fragment
def room_view():
    """The room as this phone sees it. Its browser reruns just this when the room moves on (a new
    sentence, the countdown's end, the reveal): with a vote, all that a room of phones costs."""
    mine = ui_room.phone_status(rooms, status.code, token)
    if mine is None:
        return
    now = time.time()
    progress = rooms.progress(mine.code)  # None unless the room runs a talk
    if progress and mine.phase != OVER:
        talk = ui_stage.talk_or_stop(progress.talk)
        if ui_stage.beat_on(talk, progress).kind != FAKE_OR_REAL:  # its rounds are played below, as in room mode
            ui_room.big_text(f"{name} · room {mine.code} · {progress.beat} of {len(talk.beats)}", 0.9)
            ui_room.watch_room(mine, now, progress.key)
            ui_stage.phone_beat(rooms, talk, mine.code, token, progress)
            return
    ui_room.big_text(f"{name} · room {mine.code} · {mine.where()}", 0.9)
    ui_room.watch_room(mine, now, progress.key if progress else "")
    if mine.phase != ROUND:
        ui_room.show_message()
    if mine.paused(now) and mine.phase != OVER:
        st.warning("The presenter's screen is away: the room is paused until it is back.")

    if mine.phase == LOBBY:
        st.info("You're in! Waiting for the first sentence…")
    elif mine.phase == ROUND:
        st.session_state[READ_THIS_RUN] = mine  # the ballot draws from this reading; a vote's rerun reads anew
        ballot()
    else:
        ui_room.show_result(rooms, mine)
        if mine.phase == REVEAL:
            st.info("Waiting for the next sentence…")
        else:
            ui_room.big_text(ui_room.game_over(mine), 1.4)
            ui_room.results(rooms, mine.code)


@st.fragment
def ballot():
    """The sentence and the vote; after it, what this phone said. A vote reruns just this."""
    mine = st.session_state.pop(READ_THIS_RUN, None) or ui_room.phone_status(rooms, status.code, token)
    if mine is None:
        return
    now = time.time()
    ui_room.show_message()
    if mine.can_vote(now):
        shown = rooms.round(mine.code, mine.current)
        ui_room.show_sentences(shown.sentences, 1.25)
        st.radio("How sure are you?", quiz.CONFIDENCES, horizontal=True, key="room_confidence")
        st.markdown(ui_room.stakes())
        ui_room.vote_buttons(rooms, mine, token, shown)
    elif mine.vote:
        st.success(f"Your vote: {ui_room.describe_vote(len(rooms.round(mine.code, mine.current).sentences), mine.vote)}."
                   f" Waiting for the reveal…")
    elif not mine.plays_this_round:
        st.info("You joined during this sentence: you play from the next one.")
    elif mine.voting_over(now):
        st.info("Time's up: waiting for the reveal…")
    else:
        st.info("Waiting for the reveal…")


room_view()
ui_stage.rejoin_note(token)  # on this phone only: with the nickname, it brings the player back elsewhere
