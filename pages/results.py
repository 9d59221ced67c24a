"""Talk mode, the results page: after the talk, the podium, every revealed beat's answers and a CSV of
them, by the room's public code alone (safe to share: no key, only revealed beats, no hidden answer)."""

import streamlit as st

from app.game.room import RoomError, RoomUnavailable
from app.ui import room as ui_room
from app.ui import stage as ui_stage

st.title("Talk results", anchor=False)
talks = ui_stage.store_or_stop()
code = ui_room.room_code()

if not code:
    st.markdown("The results of a talk: the podium and the room's answers to every beat.")
    with st.form("results_code_form"):
        typed = st.text_input("Room code", max_chars=8, key="results_code")
        if st.form_submit_button("Show the results", type="primary"):
            ui_room.go_to_room(typed)
    st.stop()

try:
    progress = talks.progress(code)
except (RoomError, RoomUnavailable) as e:
    st.error(str(e))
    st.stop()
if progress is None:
    st.error(f"Room {code} has no talk.")
    st.stop()
talk = ui_stage.talk_or_stop(progress.talk)

st.subheader(f"{talk.title} · room {code}", anchor=False)
ui_stage.results_podium(talks.talk_standings(code))
with st.expander("The whole board"):
    st.dataframe([{"rank": rank, "player": name, "points": total} for rank, name, total in talks.talk_standings(code)],
                 hide_index=True, key="results_board")
st.download_button("The answers per beat (CSV)", talks.answers_csv(code, talk, public=True),
                   file_name=f"talk-{code}.csv", mime="text/csv", key="results_csv",
                   on_click="ignore")  # a rerun racing the download can drop its file (a 404)
st.subheader("Beat by beat", anchor=False)
ui_stage.beat_results(talks.results(code, talk))
