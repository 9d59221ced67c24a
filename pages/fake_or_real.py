"""Fake or real? Spot the LSTM's sentences among real ones, see the model's view, climb the room's board."""

import streamlit as st

from app.game import quiz
from app.game.leaderboard import NICKNAME_MAX, LeaderboardUnavailable
from app.ui import join as ui_join
from app.ui import quiz as ui_quiz
from app.ui import serve as ui_serve

st.title("Fake or real?")
st.caption("A person wrote it, or the character LSTM? Real sentences come from the test split, which the model "
           "never saw.")

bundle_names, notices = ui_quiz.playable_bundles()
for notice in notices:
    st.info(notice)
if not bundle_names:
    st.warning("No model can be played: every language model is damaged or missing (see above).", icon="🩹")
    st.stop()

with st.expander("Game settings"):  # collapsed: on a phone the round comes first
    bundle = st.selectbox("Model", bundle_names, key="quiz_bundle")
    if ui_quiz.writes_live(bundle):  # no stored decks: a difficulty would mean nothing
        difficulty = quiz.DEFAULT_DIFFICULTY
    else:
        difficulty = st.radio("Difficulty", list(quiz.DIFFICULTIES), index=list(quiz.DIFFICULTIES).index(
            quiz.DEFAULT_DIFFICULTY), horizontal=True, key="quiz_difficulty")
    mode = st.radio("Mode", list(quiz.MODES), format_func=quiz.MODES.get, horizontal=True, key="quiz_mode")
    writers = ui_quiz.supply(bundle).writers
    writer = st.radio("Fakes written by", writers, format_func=ui_quiz.writer_name, horizontal=True,
                      key="quiz_writer") if len(writers) > 1 else writers[0]
    st.caption(ui_quiz.LIVE_FAKES_NOTE if ui_quiz.writes_live(bundle) else ui_quiz.difficulty_note(bundle, difficulty))
    st.caption("Points: think so +1 / −1, sure +2 / −3: say *sure* only when you are right more than 2 times in 3.")
ui_quiz.supply(bundle).warm()  # reads the real sentences in the background while you read this


@st.fragment
def play():
    """The game: a click here reruns only this function, not the page."""
    deal = {"on_click": ui_quiz.start_game, "args": (bundle, difficulty, mode, writer), "key": "quiz_new_game"}
    game = ui_quiz.game()
    if game is None or game.finished:
        st.button("New game", type="primary", width="stretch", **deal)
    ui_quiz.show_problem()
    if game is None:
        st.caption(f"10 rounds · {bundle} · {ui_quiz.deck_name(bundle, difficulty)} · {quiz.MODES[mode]} "
                   f"(change in Game settings)")
    elif ui_quiz.revealing():
        answered = game.answered[-1]
        ui_quiz.show_verdict(answered)
        if against := ui_quiz.people_against_machines(game.bundle, game.difficulty, game.writer,
                                                      ui_quiz.room_fooled(game.bundle)):
            st.caption(against)
        st.button("See your score" if game.finished else "Next round", type="primary", on_click=ui_quiz.next_round,
                  key="quiz_next", width="stretch")
        by = st.radio("Colour by", ["word", "character"], horizontal=True, key="quiz_reveal_by")
        ui_quiz.show_model_view(game.bundle, answered.sentences, by)
    elif not game.finished:
        number = game.current
        st.progress(number / len(game.rounds), text=f"Round {number + 1} of {len(game.rounds)} · score {game.score}")
        current = game.rounds[number]
        if len(current.sentences) == 1:
            ui_quiz.sentence_card(current.sentences[0].text, "Human or LSTM?")
            choices = [("🧑 Human", 0, True, "quiz_human"), ("🤖 LSTM", 0, False, "quiz_lstm")]
        else:
            for index, sentence in enumerate(current.sentences):
                ui_quiz.sentence_card(sentence.text, f"Sentence {'AB'[index]}")
            choices = [("A is real", 0, True, "quiz_a_real"), ("B is real", 1, True, "quiz_b_real")]
        st.radio("How sure are you?", quiz.CONFIDENCES, horizontal=True, key="quiz_confidence")
        with st.container(horizontal=True):  # side by side, on a phone too
            for label, picked, says_real, key in choices:
                st.button(label, on_click=ui_quiz.answer, args=(picked, says_real), key=key, width="stretch")
        st.divider()  # a thumb aiming at an answer must not start a new game
        st.button("New game", type="tertiary", **deal)
    else:
        ui_quiz.section_heading("Game over")
        score_column, accuracy_column = st.columns(2)
        score_column.metric("Score", game.score)
        accuracy_column.metric("Accuracy", f"{game.accuracy:.0%}", help=f"{game.correct} of {len(game.answered)} right")
        st.dataframe(game.summary_rows(), hide_index=True, key="quiz_summary")
        board, problem = ui_quiz.leaderboard()
        if problem:
            st.warning(problem)
        elif ui_quiz.saved():
            st.success("Your game is on the room's leaderboard.")
        else:
            st.text_input("Nickname for the leaderboard", placeholder=f"up to {NICKNAME_MAX} characters",
                          key="quiz_nickname")  # no max_chars: a longer paste is refused with the reason
            st.button("Enter the leaderboard", key="quiz_save", on_click=ui_quiz.save_clicked)
            ui_quiz.show_save_problem()
    ui_serve.remember_solo_game(game is not None and not game.finished)  # for the worker it may move to


play()


@st.fragment(run_every="5s")
def room_leaderboard():
    """The room's board: refreshes itself every few seconds without rerunning the page."""
    ui_quiz.section_heading(f"The room · {bundle} · {ui_quiz.deck_name(bundle, difficulty)}")
    _, problem = ui_quiz.leaderboard()
    if problem:
        st.warning(problem)
        return
    try:
        standings, fooled = ui_quiz.standings(bundle, difficulty)
    except LeaderboardUnavailable as e:
        st.warning(str(e))
        return
    if not standings.top:
        st.caption("No games on this board yet: be the first on it.")
        return
    st.dataframe(ui_quiz.player_rows(standings.top), hide_index=True, key="quiz_top_players")
    st.caption(ui_quiz.board_caption(standings))
    st.markdown("**People against machines**: how often the room was fooled (fakes taken for human), next to the "
                "strongest of the detectors on the same deck")
    if fooled:
        st.dataframe(ui_quiz.fooled_rows(fooled, bundle), hide_index=True, key="quiz_fooled",
                     column_config=ui_quiz.FOOLED_COLUMNS)
    else:
        st.caption("No one has judged a fake yet, so the room has no fooled rate.")


room_leaderboard()

if st.toggle("Meetup mode: a QR code to join from phones", key="quiz_meetup"):
    ui_join.join_panel("fake-or-real", key="quiz_join")
