"""Streamlit helpers of the "Train your own" page: cached corpus previews, the job registry,
starting jobs, and the live job panel. The training itself is ``app.training`` (stages, user_jobs); jobs ``app.training.jobs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from app import ui
from app.catalog import models, user_bundles
from app.data import uploads
from app.data.corpus import FASHION, WIKI, Corpus, CorpusError, fashion_corpus_path, load_corpus
from app.storage import staging, store
from app.training import jobs, stages, user_jobs
from app.ui import explorer as ui_explorer
from app.ui import gates as ui_gates
from app.ui import quiz as ui_quiz
from app.vectors import word2vec

UPLOAD = "Upload a file"
SHARE_HELP = ("Shared: every visitor of this server can use it read-only (not retrain or delete it), "
              "its character LSTM becomes a Fake or real? deck, and that game shows everyone real "
              "sentences of your text. Your uploaded file itself stays yours. See docs/privacy.md.")
AUTOMATIC = "(automatic)"


@dataclass
class Preview:
    """What the page shows of a corpus before training (counts, samples, notices) and how a job reads
    it (``read``); or the reason it cannot train."""

    stats: uploads.CorpusStats | None = None
    notices: list[str] = field(default_factory=list)
    sha256: str = ""  # the corpus's identity: a bundle's models and the LSTM's checkpoint name it
    read: Callable[[], Corpus] | None = None
    error: str | None = None

    @classmethod
    def of(cls, corpus: Corpus) -> Preview:
        """The preview of a corpus already in memory."""
        return cls(uploads.corpus_stats(corpus), corpus.notices, corpus.sha256, lambda: corpus)


def corpus_sources() -> list[str]:
    """Upload first, the built-in corpora present on this machine, then the corpora kept by this
    browser's own bundles (to go on training them later): never another browser's text."""
    return [UPLOAD, WIKI] + ([FASHION] if fashion_corpus_path().is_file() else []) + \
        user_bundles.saved_corpora(session_owner())


@st.cache_resource(max_entries=2, ttl=15 * 60, show_spinner="Reading the file…")
def upload_preview(name: str, data: bytes, text_column: str | None) -> Preview:
    """The upload counted once per (file, column), as a stream: the preview keeps the counts and a few
    samples, never the text (a job reads the documents when it starts). Refusals are cached too. Two
    at most, for a quarter of an hour: a server keeps no one's corpus for good (a job holds its own)."""
    try:
        stats, notices = uploads.preview_upload(name, data, text_column)
    except CorpusError as e:
        return Preview(error=str(e))
    return Preview(stats, notices, uploads.content_sha256(data),
                   lambda: uploads.read_upload(name, data, text_column))


@st.cache_resource(max_entries=4, show_spinner=False)
def upload_columns(name: str, data: bytes) -> list[str]:
    try:
        return uploads.upload_columns(name, data)
    except CorpusError:
        return []  # upload_preview says what is wrong with the file


def source_preview(source: str) -> Preview:
    """A built-in corpus (fashion-reviews, wiki-sample) or the one a user bundle keeps."""
    if store.is_user_bundle(source):
        return _saved_preview(source, staging.bundle_corpus_sha(source))
    return _builtin_preview(source)


@st.cache_resource(show_spinner="Reading the built-in corpus…")
def _builtin_preview(name: str) -> Preview:
    try:
        corpus = load_corpus(name)
    except CorpusError as e:
        return Preview(error=str(e))
    return Preview.of(corpus)


@st.cache_resource(max_entries=4, show_spinner="Reading the saved corpus…")
def _saved_preview(bundle: str, corpus_sha: str | None) -> Preview:
    """Keyed by the corpus's sha too: retraining the bundle on another corpus is a new entry."""
    try:
        corpus = user_bundles.load_saved_corpus(bundle)
    except (CorpusError, store.StoreError, KeyError) as e:
        return Preview(error=f"{bundle}: its saved corpus cannot be read ({e})")
    return Preview.of(corpus)


@st.cache_resource
def job_registry() -> jobs.JobRegistry:
    """The process's job registry; on first use, clear what a crash or restart left half-written."""
    staging.recover_staging()
    return jobs.shared_registry()


def suggest_name(name: str) -> None:
    """Put the corpus's name in the model-name box whenever the corpus changes (not on every
    rerun, which would undo what the user typed)."""
    if st.session_state.get("train_name_for") != name:
        st.session_state["train_name_for"] = name
        st.session_state["train_name"] = name


def session_owner() -> str:
    """This browser's owner token (kept across reloads, see ui.browser_owner): one job per owner;
    the models it trains are its own."""
    return ui.browser_owner()


def forget_cached_models(bundle: str) -> None:
    """Drop the bundle's models from the shared loaders' caches so every page reloads the new files."""
    for architecture in word2vec.ARCHITECTURES:
        for loader in (ui.embeddings, ui.projections, ui_explorer.projected_space):
            loader.clear(f"{bundle}/{architecture}")
    ui.language_model.clear(bundle)
    ui_quiz.supply.clear(bundle)  # its deck and fake pools came from the old model
    # Results computed from the models and cached by their names: cheap to redo, so drop them all.
    for derived in (ui_explorer.colouring, ui_gates.gate_trace, ui_gates.next_char_guesses,
                    ui_gates.next_words_by_context):
        derived.clear()


def _read_in_job(job: jobs.Job, read: Callable[[], Corpus]) -> Corpus:
    """The corpus, read on the job's thread (a preview keeps none of it): seconds for a big upload."""
    job.report(0.0, "Reading the corpus…")
    return read()


def start_bundle(read: Callable[[], Corpus], name: str, embedding: user_jobs.EmbeddingSettings | None,
                 lm: user_jobs.LMSettings | None) -> jobs.Job:
    """Queue the one Train job on the corpus ``read`` returns: word vectors, then the char-LSTM (what
    every page needs); either None when the corpus cannot train it. JobRefused if it cannot start."""
    bundle, owner = user_jobs.user_bundle(name), session_owner()
    what = " + ".join(w for w, settings in (("word2vec", embedding), ("char-LSTM", lm)) if settings is not None)
    return job_registry().submit(
        owner, f"{what} → {bundle}",
        lambda job: user_jobs.train_user_bundle(_read_in_job(job, read), name, embedding, lm,
                                                _reporter(job, curve=True), lambda: job.stop_requested, owner=owner),
        bundle=bundle, on_success=lambda job: forget_cached_models(job.result), kind="lm" if lm is not None else "word2vec")


def start_lm(read: Callable[[], Corpus], name: str, settings: user_jobs.LMSettings) -> jobs.Job:
    """Queue the char-LSTM for settings.minutes (resuming its checkpoint); JobRefused if busy."""
    bundle, owner = user_jobs.user_bundle(name), session_owner()
    return job_registry().submit(
        owner, f"char-LSTM → {bundle}",
        lambda job: user_jobs.train_user_lm(_read_in_job(job, read), name, settings, _reporter(job, curve=True),
                                            lambda: job.stop_requested, owner=owner),
        bundle=bundle, on_success=lambda job: forget_cached_models(job.result), kind="lm")


def _reporter(job: jobs.Job, curve: bool = False) -> stages.Progress:
    def report(fraction: float, message: str, figures: dict) -> None:
        job.report(fraction, message, **figures)
        if curve and "val_loss" in figures:
            job.add_point(step=figures["step"], train=figures["train_loss"], validation=figures["val_loss"])
    return report


def job_panel(job: jobs.Job | None) -> None:
    """Status, progress bar, words/s or loss curve, and the cancel / stop button of a job."""
    if job is None:
        st.caption("No training job in this session yet.")
        return
    st.markdown(f"**{job.title}**")
    if job.status == jobs.QUEUED:
        position = job_registry().queue_position(job)
        st.info(f"Waiting for a free trainer (number {position or 1} in the queue; "
                f"at most {job_registry().max_running} job(s) train at once on this machine).", icon="⏳")
    st.progress(job.fraction, text=job.message)
    figures = job.figures
    columns = st.columns(3)
    columns[0].metric("Elapsed", f"{job.seconds:.0f} s")
    if "words_per_second" in figures:
        columns[1].metric("Words / s", f"{figures['words_per_second']:,}")
    if "val_loss" in figures:
        columns[1].metric("Validation loss", f"{figures['val_loss']:.3f} nats/char")
        columns[2].metric("Steps", f"{figures['step']:,}")
    if job.history:
        st.line_chart([{"step": p["step"], "train": p["train"], "validation": p["validation"]} for p in job.history],
                      x="step", y=["train", "validation"], height=220, x_label="step", y_label="nats / char")
    if job.active:
        is_lm = job.kind == "lm"
        label = "Stop and save" if is_lm else "Cancel"
        if st.button(label, key=f"train_cancel_{job.id}", disabled=job.stop_requested,
                     help="The LSTM keeps what it learnt; a checkpoint lets you resume." if is_lm
                     else "Nothing is saved: the model store keeps its previous state."):
            job.cancel()
    elif job.status == jobs.DONE:
        st.success(f"Saved as `{job.result}`. It is now in the model menus of the other pages.", icon="✅")
        trained_summary(job.result)
    elif job.status == jobs.CANCELLED:
        st.warning(job.message, icon="🛑")
    elif job.status == jobs.FAILED:
        st.error(f"Training failed: {job.error}", icon="⚠️")


NATS_PER_CHAR = ("**What nats/char means:** how surprised the model is by each next character of text it never "
                 "saw, on average; lower is better. 0 would be certain every time; {uniform:.1f} is guessing "
                 "blindly among the text's {symbols} characters.")
SAMPLES = 3


def trained_summary(bundle: str) -> None:
    """What a newcomer needs after training: the LSTM's score beside a yardstick (the same corpus's
    character n-gram, counted not learnt), what the unit means, and a few samples of its writing."""
    try:
        card = store.read_manifest(bundle)["artifacts"].get("lm")
    except store.StoreError:
        return
    if not card:
        return
    metrics, symbols = card.get("metrics", {}), card.get("params", {}).get("model", {}).get("vocab_size", 0)
    lstm, baseline = metrics.get("validation_nats_per_char"), metrics.get("ngram_baseline", {})
    left, right = st.columns(2)
    if lstm is not None:
        left.metric("Your LSTM", f"{lstm:.3f} nats/char", help="On the validation split: text it never trained on.")
    if baseline.get("validation_nats_per_char") is not None:
        right.metric(f"Yardstick: a {baseline['order']}-gram", f"{baseline['validation_nats_per_char']:.3f} nats/char",
                     delta=None if lstm is None else f"{lstm - baseline['validation_nats_per_char']:+.3f} for the LSTM",
                     delta_color="inverse",
                     help="A Kneser-Ney character n-gram counted on the same corpus (app/lm/ngram.py): what "
                          "counting the last few characters reaches, with nothing learnt.")
    st.markdown(NATS_PER_CHAR.format(uniform=float(np.log(max(2, symbols))), symbols=max(2, symbols)))
    lm = ui.language_model(bundle)
    st.markdown("**What it writes** (temperature 0.8):")
    for seed in range(SAMPLES):
        st.text("".join(lm.generate(length=160, temperature=0.8, seed=seed)).strip() or "(nothing)")


def user_model_rows() -> list[dict]:
    """One row per user bundle this browser may use (its own and the shared ones): its models,
    the corpus it was trained on, and whose it is."""
    owner, rows = session_owner(), []
    for bundle, artifacts in models.usable_bundles(owner).items():
        if not store.is_user_bundle(bundle):
            continue
        corpus = next((a["corpus"] for a in artifacts.values() if a.get("corpus")), {})
        mine = user_bundles.owner_of(bundle) == owner
        whose = ("yours, shared with everyone" if user_bundles.is_shared(bundle) else "yours, private") if mine \
            else ("trained on the command line" if user_bundles.owner_of(bundle) is None else "shared by another visitor")
        rows.append({"bundle": bundle, "models": ", ".join(sorted(a for a in artifacts if a != "corpus")),
                     "corpus": corpus.get("file", ""), "documents": corpus.get("documents"), "whose": whose})
    return rows


def own_bundles() -> list[str]:
    """The user bundles this browser trained (it may share, stop sharing or delete them)."""
    owner = session_owner()
    return [b for b in store.bundles() if store.is_user_bundle(b) and user_bundles.owner_of(b) == owner]


def share(bundle: str, shared: bool) -> None:
    user_bundles.set_shared(bundle, session_owner(), shared)
    forget_cached_models(bundle)  # the quiz's room decks change with it


def delete(bundle: str) -> None:
    user_bundles.delete(bundle, session_owner())
    forget_cached_models(bundle)
