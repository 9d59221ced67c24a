"""Train your own: upload a corpus (or pick a built-in one), preview it, train word2vec and a
character LSTM in the background, and find the models in every other page."""

import streamlit as st

from app.catalog import user_bundles
from app.data import uploads
from app.storage import store
from app.storage.staging import bundle_corpus_sha, safe_name
from app.training import jobs
from app.training.stages import checkpoint_progress
from app.training.user_jobs import (
    DEFAULT_LM_MINUTES,
    DEFAULT_LM_SIZE,
    LM_SIZES,
    EmbeddingSettings,
    LMSettings,
    user_bundle,
    user_lm_checkpoint,
)
from app.ui import train as ui_train
from app.vectors.word2vec import ARCHITECTURES

st.title("Train your own")
st.markdown(
    "Bring your own text (product descriptions, a novel, your posts) and train word vectors and a "
    "character LSTM on it. Training runs in the background: move between pages while it works; "
    "the new models appear in the embedding explorer, the gates page and the quiz."
)
registry = ui_train.job_registry()
owner = ui_train.session_owner()

# ---------------------------------------------------------------- 1 · corpus
st.header("1 · Corpus")
source = st.radio("Where the text comes from", ui_train.corpus_sources(), horizontal=True, key="train_source")
preview, suggested_name = None, "my-corpus"
if source == ui_train.UPLOAD:
    limit_mb = uploads.upload_limit_mb()
    upload = st.file_uploader(
        f"A .txt (one document per line or paragraph), .csv or .jsonl file, optionally gzipped; up to {limit_mb} MB",
        type=["txt", "csv", "jsonl", "gz"], max_upload_size=limit_mb, key="train_upload")
    st.caption(f"**Limit: {limit_mb} MB a file.** A bigger file is refused before it is sent: gzip it (.gz, "
               "text shrinks about 3×) or upload part of it.")
    if upload is None:
        st.info("Upload a file, or pick a built-in corpus above.", icon="📄")
    else:
        data = upload.getvalue()
        columns = ui_train.upload_columns(upload.name, data)
        column = None
        if columns:
            choice = st.selectbox("Text column", [ui_train.AUTOMATIC, *columns], key="train_column",
                                  help="Automatic picks the column whose cells hold the most words.")
            column = None if choice == ui_train.AUTOMATIC else choice
        preview = ui_train.upload_preview(upload.name, data, column)
        suggested_name = uploads.display_name(upload.name).split(".")[0]
else:
    preview = ui_train.source_preview(source)
    suggested_name = store.user_bundle_name(source)

if preview is not None and preview.error:
    st.warning(preview.error, icon="🚫")
    preview = None

# ---------------------------------------------------------------- 2 · preview
if preview is not None:
    stats = preview.stats
    st.header("2 · Preview")
    for notice in preview.notices:
        st.info(notice, icon="ℹ️")
    cells = st.columns(4)
    cells[0].metric("Documents", f"{stats.documents:,}")
    cells[1].metric("Sentences", f"{stats.sentences:,}")
    cells[2].metric("Words", f"{stats.words:,}")
    cells[3].metric("Vocabulary", f"{stats.vocabulary:,}")
    st.dataframe({"sample sentences": stats.samples}, hide_index=True, width="stretch")

    # ------------------------------------------------------------ 3 · train
    st.header("3 · Train")
    st.markdown("One job trains what every page needs: **word vectors** (the embedding explorer), then a "
                "**character LSTM** that reads and writes your text one character at a time (the playground, "
                "the gates page and Fake or real?).")
    ui_train.suggest_name(suggested_name)
    name = safe_name(st.text_input("Model name", max_chars=40, key="train_name"))
    bundle = user_bundle(name)
    taken = not user_bundles.can_change(bundle, owner)
    if taken:
        st.warning(f"`{bundle}` is someone else's model: pick another name to train your own.", icon="🔒")
    else:
        st.caption(f"Saved as `{bundle}` (letters, digits, - and _ only). It is private: other visitors "
                   "see it only once you share it (below).")
        if bundle_corpus_sha(bundle) not in (None, preview.sha256):
            st.warning(f"`{bundle}` already holds models of another corpus: training replaces them.", icon="♻️")
    size = st.radio("LSTM size", list(LM_SIZES), index=list(LM_SIZES).index(DEFAULT_LM_SIZE), horizontal=True,
                    key="train_lm_size", help="Bigger learns more per step but takes more time per step: "
                                              "on a laptop's CPU the medium size learns most in a few minutes.")
    minutes = st.slider("Minutes for the LSTM", 1, 30, DEFAULT_LM_MINUTES, key="train_lm_minutes",
                        help="The LSTM's part, final evaluation included, ends within this time; the word "
                             "vectors before it take a minute or less.")
    with st.expander("Word-vector settings"):
        left, right = st.columns(2)
        architecture = left.radio("Architecture", ["skip-gram", "CBOW", "both"], horizontal=True, key="train_arch",
                                  help="Skip-gram predicts the context from a word (better for rare words); "
                                       "CBOW predicts a word from its context (faster).")
        vector_size = left.select_slider("Vector size", [25, 50, 100, 200], value=100, key="train_vector_size")
        window = left.slider("Window", 2, 10, 5, key="train_window", help="How many words either side count as context.")
        min_count = right.slider("Minimum count", 1, 20, 5, key="train_min_count", help="Words seen fewer times are left out.")
        epochs = right.slider("Epochs", 1, 20, 5, key="train_epochs")
        projection_words = right.select_slider("Words to project (t-SNE, PCA)", [0, 250, 500, 1000, 2000], value=500,
                                               key="train_projection_words",
                                               help="0 skips the precomputed 3D layouts.")
    architectures = tuple(ARCHITECTURES) if architecture == "both" else (
        ("skipgram",) if architecture == "skip-gram" else ("cbow",))
    embedding_settings = EmbeddingSettings(architectures=architectures, vector_size=vector_size, window=window,
                                           min_count=min_count, epochs=epochs, projection_words=projection_words)
    hidden, layers = LM_SIZES[size]
    lm_settings = LMSettings(minutes=minutes, hidden=hidden, layers=layers)
    embedding_problems = uploads.corpus_problems(stats, ["embeddings"], min_count)
    lm_problems = uploads.corpus_problems(stats, ["lm"], min_count=1)
    for problem in embedding_problems:
        st.warning(f"No word vectors: {problem}", icon="📏")
    for problem in lm_problems:
        st.warning(f"No character LSTM: {problem}", icon="📏")
    steps_done, seconds_done = checkpoint_progress(user_lm_checkpoint(preview.sha256, name, lm_settings))
    if steps_done:
        st.caption(f"A checkpoint of this corpus and LSTM size exists: {steps_done:,} steps, "
                   f"{seconds_done / 60:.1f} minutes trained. Training resumes from it.")
    parts = [part for part, problems in (("word vectors", embedding_problems), ("the LSTM", lm_problems))
             if not problems]
    label = "Train " + " and ".join(parts) if parts else "Train"
    if st.button(label, type="primary", disabled=not parts or taken, key="train_start"):
        try:
            ui_train.start_bundle(preview.read, name, None if embedding_problems else embedding_settings,
                                  None if lm_problems else lm_settings)
        except jobs.JobRefused as refusal:
            st.warning(str(refusal), icon="⏳")
    if steps_done and not lm_problems and st.button(f"Only the LSTM, {minutes} more minute(s)", disabled=taken,
                                                   key="train_lm_start"):
        try:
            ui_train.start_lm(preview.read, name, lm_settings)
        except jobs.JobRefused as refusal:
            st.warning(str(refusal), icon="⏳")

# ---------------------------------------------------------------- 4 · the job
st.header("Training")
job = registry.job_of(owner)


@st.fragment(run_every=1.0 if job is not None and job.active else None)
def training_status():
    current = registry.job_of(owner)
    ui_train.job_panel(current)
    if current is not None and current.active:
        st.session_state["train_watching"] = current.id
        if "step" in current.figures and st.session_state.get("train_listed_vectors") != current.id:
            st.session_state["train_listed_vectors"] = current.id
            st.rerun()  # the LSTM has started, so the word vectors are saved: list them now
    elif current is not None and st.session_state.get("train_watching") == current.id:
        del st.session_state["train_watching"]
        st.rerun()  # the job just ended: rerun the whole page so its model list and buttons catch up


training_status()
others = registry.others_summary(owner)
if others:
    st.caption(others)

# ---------------------------------------------------------------- 5 · your models
st.header("Your models")
rows = ui_train.user_model_rows()
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Word vectors: pick `skip-gram · user/<name>` in the embedding explorer. "
               "A character LSTM appears in the gates page, and once shared, as a quiz deck for the room.")
else:
    st.info("No models trained here yet.", icon="🧵")
mine = ui_train.own_bundles()
if mine:
    chosen = st.selectbox("One of your models", mine, key="train_own_bundle")
    shared = user_bundles.is_shared(chosen)
    share_col, delete_col = st.columns(2)
    if share_col.button("Stop sharing" if shared else "Share with everyone", key="train_share",
                        help=ui_train.SHARE_HELP):
        ui_train.share(chosen, not shared)
        st.rerun()
    if not shared:  # in the page, not only in a tooltip: sharing puts sentences of the text before everyone
        share_col.caption(ui_train.SHARE_HELP)
    sure = delete_col.checkbox(f"Yes, delete `{chosen}` and its corpus", key="train_delete_sure")
    if delete_col.button("Delete", disabled=not sure, key="train_delete"):
        ui_train.delete(chosen)
        st.rerun()
