"""Talk mode, the speaker view: on the laptop's own screen, the current and next beat, the notes, a clock,
the answers (each can be hidden from the stage) and the controls. Keys: → or space next, ← back, R reveal,
Q the QR code on the stage, B a blank stage."""

import streamlit as st

from app.game.room import NotPresenter, RoomError, RoomUnavailable
from app.ui import quiz as ui_quiz
from app.ui import room as ui_room
from app.ui import stage as ui_stage

st.title("Give the talk", anchor=False)  # no anchor links: this address holds the key
talks = ui_stage.store_or_stop()
code, secret = ui_room.room_code(), ui_room.param(ui_room.KEY_PARAM)

if not code:
    st.markdown("Give the talk from here: the **stage** (a second window, on the projector) shows one beat at a "
                "time, the room answers on their phones, and this screen keeps your notes and the controls.")
    bundles, notices = ui_quiz.playable_bundles()
    for notice in notices:
        st.info(notice)
    if not bundles:
        st.error("No model can deal the Fake-or-real sentences yet, so no talk can start.")
        st.stop()
    with st.form("talk_setup"):
        talk_name = st.selectbox("Talk (a file in talks/)", ui_stage.talk_files(), key="talk_file")
        bundle = st.selectbox("Model for the Fake-or-real rounds", bundles, key="talk_bundle")
        if st.form_submit_button("Start the talk", type="primary") and talk_name:
            ui_stage.start_talk(talks, talk_name, bundle)
    st.stop()

try:
    room = talks.presenter_room(code, secret)  # the room's heartbeat too
    progress = talks.progress(code)
except NotPresenter as e:
    st.error(f"{e} The stage is at **{ui_stage.STAGE_PAGE}?room={code}**.")
    st.stop()
except (RoomError, RoomUnavailable) as e:
    st.error(str(e))
    st.stop()
if progress is None:
    st.error(f"Room {code} has no talk: start one from this page without a room.")
    st.stop()
talk = ui_stage.talk_or_stop(progress.talk)
beat = ui_stage.beat_on(talk, progress)
ui_room.show_message()
ui_stage.keyboard(talks, talk, code, secret)
ui_stage.let_this_browser_drive_the_stage(code, secret)

st.markdown(f"**{talk.title}** · room **{code}** · stage: [{ui_stage.STAGE_PAGE}?room={code}]"
            f"({ui_stage.STAGE_PAGE}?room={code}) (open it on the projector; it holds no key)")
current_column, next_column = st.columns([3, 2])
with current_column:
    st.subheader(f"Now: {ui_stage.describe_beat(beat)}", anchor=False)
    st.markdown(beat.text)
    st.info(beat.notes or "No notes.")
    st.caption(f"Stage shows: {progress.screen} · {progress.phase}")
with next_column:
    st.markdown(f"**Next:** {ui_stage.describe_beat(talk.beats[beat.number] if beat.number < len(talk.beats) else None)}")

    @st.fragment(run_every=ui_room.POLL)
    def counts():
        """Every second: the clock, the heartbeat, how many phones answered, and the talk's moves made elsewhere."""
        try:
            talks.presenter_room(code, secret)
            answered, players = talks.answered(code, beat.number)
            now = talks.progress(code)
        except (RoomError, RoomUnavailable) as e:
            st.warning(str(e))
            return
        # moved from the stage window (its keys) or another speaker tab: draw the new beat
        ui_room.rerun_on_change((progress.key, progress.screen), (now.key, now.screen))
        st.subheader(f"{answered} of {players} answered" if beat.asks else f"{players} phones in the room", anchor=False)
        st.caption(ui_stage.clock(room.created_at))

    counts()

buttons = st.columns(5)
for column, (label, action) in zip(buttons, [("← Back", "back"), ("Next →", "next"), ("Reveal (R)", "reveal"),
                                             ("QR (Q)", "qr"), ("Blank (B)", "blank")], strict=True):
    column.button(label, key=f"talk_{action}", on_click=ui_stage.step, args=(talks, talk, code, secret, action),
                  type="primary" if action == "next" else "secondary", width="stretch")

if beat.asks:
    st.markdown("**Answers** (hide one from the stage with a click" + (
        "; put a sentence through the gates with *On stage*)" if beat.takes_sentence else ")"))

    @st.fragment(run_every=ui_room.POLL)
    def answers():
        """Every second: the answers as they come, each with its buttons."""
        try:
            ui_stage.speaker_answers(talks, code, secret, beat, talks.progress(code))
        except (RoomError, RoomUnavailable) as e:
            st.warning(str(e))

    answers()

results = ui_stage.results_address(code)
st.markdown(f"After the talk: the **[results page]({results})** (podium, every revealed beat's answers, their "
            f"CSV; it holds no key, share it).")
st.download_button("Every answer, hidden ones too (CSV)", talks.answers_csv(code, talk),
                   file_name=f"talk-{code}-all.csv", mime="text/csv", key="talk_csv",
                   on_click="ignore")  # a rerun racing the download can drop its file (a 404)
