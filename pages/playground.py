"""LM playground: let the character LSTM write, score a sentence, and fill in the blank."""

import math
import time

import streamlit as st

from app import ui
from app.lessons import gates, playground
from app.lessons.highlight import pieces_html, rank_legend_html
from app.ui import gates as ui_gates

PRIME = "The jumpsuit"
SENTENCE = "The wool coat is warm, but the sleeves are a little long for my arms."
BLANK_CONTEXT = (
    "I bought this blouse for the office and have worn it three times already. The fabric is light, "
    "the cut is flattering and the colour goes with almost anything. At the weekend I wear it loose "
    "with the"
)
CUT_CHOICES = [400, 200, 100, 50, 25, 12, 6]

st.title("LM playground")
st.markdown("**Press Generate** and the character LSTM writes, coloured by how sure it was of each character; "
            "then let it judge a sentence or fill a blank. Everything it knows it learnt one character at a time "
            "from the training text.")

with st.sidebar:
    bundle = st.selectbox("Language model", ui.language_model_bundles(), key="playground_bundle")
lm = ui_gates.language_model_or_stop(bundle)
if st.session_state.get("playground_prime_for") != bundle:  # a model of one's own starts from its own text
    st.session_state["playground_prime_for"] = bundle
    st.session_state["playground_prime"] = ui_gates.opening_words(bundle, lm, PRIME)
ui_gates.keep_values({"playground_prime": PRIME, "playground_temperature": 0.8, "playground_top_k": 0, "playground_length": 300,
                      "playground_seed": None, "playground_one_review": True, "playground_sample_colour": "probability", "playground_sentence": SENTENCE,
                      "playground_colour_by": "probability", "playground_context": BLANK_CONTEXT, "playground_cuts": [100, 25, 12, 6]})

# lazy tabs: only the one in view runs (fill-the-blank's beam searches wait until it is opened)
generate_tab, score_tab, blank_tab = st.tabs(["Generate", "Score a sentence", "Fill the blank"], key="playground_tab",
                                             on_change="rerun")

if generate_tab.open:
    with generate_tab:
        prime = gates.limit_text(st.text_input("Start with", key="playground_prime"))
        if notice := gates.truncation_notice(prime):
            st.warning(notice, icon="✂️")
        clicked = st.button("Generate", type="primary", key="playground_generate")
        output = st.empty()  # the sample appears right under the button
        under_output = st.container()
        with st.expander("Sampling: temperature, top-k, length, seed"):
            temperature_col, top_k_col, length_col, seed_col = st.columns(4)
            temperature = temperature_col.slider("Temperature", 0.1, 2.0, step=0.05, key="playground_temperature",
                                                 help="Low: safe and repetitive. High: adventurous, then gibberish.")
            top_k = top_k_col.slider("Top-k (0 = all)", 0, 40, key="playground_top_k",
                                     help="Sample only among the k most likely next characters.")
            length = length_col.slider("Length", 20, 1000, step=10, key="playground_length",
                                       help="At most this many characters")
            seed = seed_col.number_input("Seed (empty = random)", min_value=0, value=None, step=1,
                                         key="playground_seed")
            one_review = st.checkbox("Stop at the end of the review", key="playground_one_review")
        if clicked:
            written, started = "", time.perf_counter()
            stream = lm.generate(prime.text, length, temperature, top_k or None, seed,
                                 stop_at="\n" if one_review else None)
            for chunk in playground.chunked(stream):
                written += chunk
                output.markdown(pieces_html(playground.sample_pieces(prime.text, written)), unsafe_allow_html=True)
            seconds = time.perf_counter() - started
            # one batched pass over the finished sample (a few per cent of the writing time), kept
            # with it, so no rerun scores it again
            own_score = lm.score(written, context=prime.text) if written else None
            st.session_state["playground_generated"] = (bundle, prime.text, written, seconds, own_score)
        if st.session_state.get("playground_generated", ("",))[0] == bundle:  # the last sample, kept across reruns
            _, start, written, seconds, own_score = st.session_state["playground_generated"]
            with under_output:
                colour_by = st.radio("Colour by the model's confidence", ["probability", "rank"], horizontal=True,
                                     key="playground_sample_colour", format_func={"probability": "probability",
                                                                            "rank": "rank (GLTR)"}.get)
                output.markdown(pieces_html(playground.sample_pieces(start, written, own_score, colour_by)),
                                unsafe_allow_html=True)
                if colour_by == "rank":
                    st.markdown(rank_legend_html(), unsafe_allow_html=True)
                st.caption(f"{len(written)} characters in {seconds:.2f} s: {len(written) / max(seconds, 1e-9):,.0f} "
                           "characters per second. Your start is shaded blue; the model's text is coloured by how "
                           "sure it was of each character (pale green: expected, red: a gamble). Hover over or tap one.")
                if own_score is not None:
                    st.caption(f"{own_score.nats_per_char:.2f} nats per character. Low temperatures write what the "
                               "model expects (green); high ones pick characters outside its top 10.")

if score_tab.open:
    with score_tab:
        sentence = gates.limit_text(st.text_input("Sentence", key="playground_sentence"))
        if notice := gates.truncation_notice(sentence):
            st.warning(notice, icon="✂️")
        if not sentence.text:
            st.info("Type a sentence to see how surprised the model is by each character.")
        else:
            colour_by = st.radio("Colour by", ["probability", "rank"], horizontal=True, key="playground_colour_by",
                                 format_func={"probability": "probability", "rank": "rank (GLTR)"}.get)
            score = lm.score(sentence.text)
            nats_col, bits_col, top1_col = st.columns(3)
            nats_col.metric("nats per character", f"{score.nats_per_char:.2f}")
            bits_col.metric("bits per character", f"{score.nats_per_char / math.log(2):.2f}")
            top1_col.metric("characters the model guessed first", f"{(score.ranks == 1).mean():.0%}")
            pieces = playground.score_pieces(score, playground.guesses_before_each(lm, sentence.text), colour_by)
            st.markdown(pieces_html(pieces), unsafe_allow_html=True)
            if colour_by == "rank":
                st.markdown(rank_legend_html(), unsafe_allow_html=True)
            st.caption("Pale green: the model expected it; red: a surprise. Hover over a character for its "
                       "probability, its rank and what the model expected instead.")

if blank_tab.open:
    with blank_tab:
        st.markdown("A long context ending in “… with the”: which word comes next, and does the answer change "
                    "when the model only sees the last few characters? Guesses that move when a distant word "
                    "is cut off are long-range memory at work.")
        context = gates.limit_text(st.text_area("Context", key="playground_context", height=110))
        if notice := gates.truncation_notice(context):
            st.warning(notice, icon="✂️")
        cuts = st.multiselect("Also cut the context to its last N characters", CUT_CHOICES,
                              key="playground_cuts")
        if not context.text.strip():
            st.info("Type a context: the model guesses the word that follows it.")
        else:
            results = ui_gates.next_words_by_context(bundle, context.text, tuple(cuts))
            st.dataframe(playground.context_cut_rows(context.text, results), hide_index=True, key="playground_blank_table")
            st.caption("Probabilities are of the whole word and the character that ends it.")
