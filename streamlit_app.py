"""RNN Atelier: the entry point. Page config and navigation; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="RNN Atelier", page_icon="🧵", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon="🧵", default=True),
    st.Page("pages/embeddings.py", title="Embedding explorer", icon="🧭", url_path="explorer"),
    st.Page("pages/lstm_gates.py", title="LSTM gates, live", icon="🔬", url_path="lstm-gates"),
    st.Page("pages/playground.py", title="LM playground", icon="✍️", url_path="playground"),
    st.Page("pages/why_lstm.py", title="Why LSTM?", icon="📉", url_path="why-lstm"),
    st.Page("pages/train_your_own.py", title="Train your own", icon="🧶", url_path="train"),
])
navigation.run()
