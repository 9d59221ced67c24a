"""Fake or real? Spot the LSTM's sentences among real ones, see the model's view, climb the room's board."""

import streamlit as st

from app import quiz, ui_join, ui_quiz
from app.leaderboard import NICKNAME_MAX, LeaderboardUnavailable

st.title("Fake or real?")
st.markdown("Each round shows a sentence a person wrote or one the character LSTM made up. "
            "Real sentences come from the test split, which the model never saw.")

deck_names, notices = ui_quiz.decks()
for notice in notices:
    st.info(notice)

game = ui_quiz.game()
playing = game is not None and not game.finished
with st.expander("Settings for the next game" if playing else "Game settings", expanded=not playing):
    deck_column, difficulty_column, mode_column = st.columns(3)
    bundle = deck_column.selectbox("Deck", deck_names, key="quiz_deck")
    difficulty = difficulty_column.radio("Difficulty", list(quiz.DIFFICULTIES), index=1, horizontal=True,
                                         key="quiz_difficulty")
    mode = mode_column.radio("Mode", list(quiz.MODES), format_func=quiz.MODES.get, horizontal=True, key="quiz_mode")
    setting = quiz.DIFFICULTIES[difficulty]
    st.caption(f"**{difficulty}**: sampling temperature {setting.temperature} ({setting.description}). "
               f"Points: think so +1 / −1, sure +2 / −3: say *sure* only when you are right more than 2 times in 3.")
ui_quiz.supply(bundle).warm(difficulty)  # fakes are made in the background while you read this

if st.button("New game", type="primary", key="quiz_new_game"):
    ui_quiz.start_game(bundle, difficulty, mode)
    game = ui_quiz.game()

if game is None:
    st.info("Press **New game** to play 10 rounds.")
elif ui_quiz.revealing():
    answered = game.answered[-1]
    by = st.radio("Colour by", ["word", "character"], horizontal=True, key="quiz_reveal_by")
    ui_quiz.show_reveal(game.deck, answered, by)
    st.button("See your score" if game.finished else "Next round", type="primary", on_click=ui_quiz.next_round,
              key="quiz_next", width="stretch")
elif not game.finished:
    number = game.current
    st.progress(number / len(game.rounds), text=f"Round {number + 1} of {len(game.rounds)} · score {game.score}")
    current = game.rounds[number]
    if len(current.sentences) == 1:
        ui_quiz.sentence_card(current.sentences[0].text, "Human or LSTM?")
        st.radio("How sure are you?", quiz.CONFIDENCES, horizontal=True, key="quiz_confidence")
        human, lstm = st.columns(2)
        human.button("🧑 Human", on_click=ui_quiz.answer, args=(0, True), key="quiz_human", width="stretch")
        lstm.button("🤖 LSTM", on_click=ui_quiz.answer, args=(0, False), key="quiz_lstm", width="stretch")
    else:
        for index, sentence in enumerate(current.sentences):
            ui_quiz.sentence_card(sentence.text, f"Sentence {'AB'[index]}")
        st.radio("How sure are you?", quiz.CONFIDENCES, horizontal=True, key="quiz_confidence")
        first, second = st.columns(2)
        first.button("A is real", on_click=ui_quiz.answer, args=(0, True), key="quiz_a_real", width="stretch")
        second.button("B is real", on_click=ui_quiz.answer, args=(1, True), key="quiz_b_real", width="stretch")
else:
    st.subheader("Game over")
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
        nickname = st.text_input("Nickname for the leaderboard", max_chars=NICKNAME_MAX, key="quiz_nickname")
        if st.button("Enter the leaderboard", key="quiz_save") and ui_quiz.save_score(board, nickname):
            st.rerun()


@st.fragment(run_every="5s")
def room_leaderboard():
    st.subheader(f"The room · {bundle} · {difficulty}")
    board, problem = ui_quiz.leaderboard()
    if problem:
        st.warning(problem)
        return
    try:
        standings, fooled = board.board(bundle, difficulty, ui_quiz.player_id()), board.fooled_rate(deck=bundle)
    except LeaderboardUnavailable as e:
        st.warning(str(e))
        return
    if not standings.top:
        st.caption(f"No {difficulty} games yet: be the first on the board.")
        return
    st.dataframe(ui_quiz.player_rows(standings.top), hide_index=True, key="quiz_top_players")
    st.caption(ui_quiz.board_caption(standings))
    st.markdown("**How often the room was fooled** (fakes taken for human)")
    st.dataframe(ui_quiz.fooled_rows(fooled), hide_index=True, key="quiz_fooled",
                 column_config=ui_quiz.FOOLED_COLUMNS)


room_leaderboard()

if st.toggle("Meetup mode: a QR code to join from phones", key="quiz_meetup"):
    ui_join.join_panel("fake-or-real", key="quiz_join")
