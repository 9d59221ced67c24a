"""Talk mode, the stage: the projector's view of the talk, by the room's public code alone (no key, no buttons).

The speaker view (pages/speaker.py) moves the talk; this page follows it twice a second. Opened in the
speaker's own browser, it answers the speaker's keys too (→ / space, ←, R, Q, B)."""

import streamlit as st

from app.game.room import RoomError, RoomUnavailable
from app.ui import room as ui_room
from app.ui import stage as ui_stage

ui_stage.stage_css()
talks = ui_stage.store_or_stop()
code = ui_room.room_code()

with st.container(key="stage"):
    if not code:
        ui_stage.heading("The stage")
        st.markdown("Open this page from the **Speaker view**: it shows the talk of one room.")
        st.stop()
    try:
        progress = talks.progress(code)
    except (RoomError, RoomUnavailable) as e:
        ui_stage.heading("The stage")
        st.markdown(str(e))
        st.stop()
    if progress is None:
        ui_stage.heading(f"Room {code} has no talk")
        st.stop()
    talk = ui_stage.talk_or_stop(progress.talk)
    speaker_key = ui_stage.stage_key(code)  # only in the speaker's own browser: a cookie, never the address
    if speaker_key:
        ui_stage.keyboard(talks, talk, code, speaker_key)

    @st.fragment(run_every=ui_stage.POLL)
    def follow():
        """The beat, drawn again twice a second: counts grow, and the speaker's moves show within half a second."""
        try:
            now = talks.progress(code)
            ui_stage.draw_stage(talks, talk, code, now)
        except (RoomError, RoomUnavailable) as e:
            st.markdown(str(e))

    follow()
