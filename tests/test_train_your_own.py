"""Train your own: hostile uploads, background jobs, atomic bundles, and the page through AppTest.

Every test trains into a temporary model store (store.STORE and store.CHECKPOINTS point into
tmp_path), so nothing is written into the real model_store/ or checkpoints/.
"""

import csv
import gzip
import io
import os
import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import ui
from app.catalog import models, user_bundles
from app.data import uploads
from app.data.corpus import WIKI, Corpus, CorpusError, load_corpus, wiki_sample_path
from app.storage import staging, store
from app.training import cli, jobs, stages, user_jobs
from app.ui import train as ui_train
from tests import hostile_files
from tests.conftest import ROOT

FAST = user_jobs.EmbeddingSettings(architectures=("skipgram", "cbow"), vector_size=32, window=4, min_count=3, epochs=2,
                               projection_words=0)


@pytest.fixture
def user_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(store, "STORE", tmp_path / "store")
    monkeypatch.setattr(store, "CHECKPOINTS", tmp_path / "checkpoints")
    return tmp_path / "store"


@pytest.fixture(scope="module")
def wiki_documents():
    return load_corpus(WIKI).documents


@pytest.fixture(scope="module")
def small_corpus(wiki_documents):
    """About 600 real Wikipedia paragraphs: a few thousand sentences, some 50,000 words."""
    documents = wiki_documents[:600]
    return Corpus("small-wiki", wiki_sample_path(), documents)


def wiki_csv(documents) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "text", "stars"])
    for number, document in enumerate(documents):
        writer.writerow([number, document, number % 5])
    return out.getvalue().encode("utf-8")


def leftovers(user_store):
    folder = user_store / "user" / staging.STAGING
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---------------------------------------------------------------- hostile uploads

def test_empty_upload_is_refused():
    with pytest.raises(CorpusError, match="empty"):
        uploads.read_upload("notes.txt", b"")


def test_upload_over_the_cap_is_refused(monkeypatch):
    monkeypatch.setenv(uploads.UPLOAD_MAX_MB_ENV, "1")
    assert uploads.upload_limit_mb() == 1
    with pytest.raises(CorpusError, match=r"big.txt is 1\.5 MB, more than the 1 MB limit"):
        uploads.read_upload("big.txt", b"word " * 300_000)
    monkeypatch.setenv(uploads.UPLOAD_MAX_MB_ENV, "lots")
    assert uploads.upload_limit_mb() == uploads.DEFAULT_UPLOAD_MAX_MB


def test_gzip_bomb_stops_at_the_expanded_cap():
    bomb = gzip.compress(b"a " * (20 * 2**20))  # 40 MB of text in well under 1 MB
    assert len(bomb) < 2**20
    with pytest.raises(CorpusError, match="expands to more than 4 MB"):
        uploads.read_upload("bomb.txt.gz", bomb, limit_mb=1)


def test_broken_gzip_and_unknown_types_are_refused():
    with pytest.raises(CorpusError, match="not a readable gzip"):
        uploads.read_upload("notes.txt.gz", b"this is not gzip data at all")
    with pytest.raises(CorpusError, match="unsupported type .pdf"):
        uploads.read_upload("paper.pdf", b"%PDF-1.4")
    with pytest.raises(CorpusError, match="unsupported type"):
        uploads.read_upload("archive.gz", gzip.compress(b"text"))


def test_binary_upload_is_refused():
    with pytest.raises(CorpusError, match="binary"):
        uploads.read_upload("photo.txt", bytes(range(256)) * 10)


def test_latin1_upload_is_read_with_a_notice():
    corpus = uploads.read_upload("french.txt", "une jolie robe d'été\nun café crème\n".encode("latin-1"))
    assert corpus.documents == ["une jolie robe d'été", "un café crème"]
    assert any("Latin-1" in notice for notice in corpus.notices)


def test_utf16_upload_is_text_not_binary():
    corpus = uploads.read_upload("windows.txt", "une robe d'été\r\nun café\r\n".encode("utf-16"))
    assert corpus.documents == ["une robe d'été", "un café"]
    assert any("UTF-16" in notice for notice in corpus.notices)


def test_csv_without_a_text_column_is_refused():
    numbers = "id,price,stock\n" + "".join(f"{i},{i * 3},{i % 7}\n" for i in range(100))
    with pytest.raises(CorpusError, match="no usable text column"):
        uploads.read_upload("prices.csv", numbers.encode())


def test_csv_text_column_can_be_chosen(wiki_documents):
    data = wiki_csv(wiki_documents[:50])
    assert uploads.upload_columns("wiki.csv", data) == ["id", "text", "stars"]
    assert uploads.read_upload("wiki.csv", data).documents[0] == wiki_documents[0]  # guessed
    assert uploads.read_upload("wiki.csv", data, text_column="stars").documents[:3] == ["0", "1", "2"]
    with pytest.raises(CorpusError, match="no column 'body'"):
        uploads.read_upload("wiki.csv", data, text_column="body")


def test_one_giant_line_is_cut_into_documents(wiki_documents):
    giant = " ".join(wiki_documents[:300])  # a whole corpus with no line breaks
    corpus = uploads.read_upload("giant.txt", giant.encode())
    assert len(corpus.documents) >= uploads.MIN_DOCUMENTS
    assert max(map(len, corpus.documents)) <= uploads.MAX_DOCUMENT_CHARS
    assert any("cut into pieces" in notice for notice in corpus.notices)
    # a line with no spaces at all is cut too, never kept as one enormous word
    pieces, cut = uploads.cut_long_documents(["x" * 50_000])
    assert cut == 1 and max(map(len, pieces)) <= 2 * uploads.MAX_DOCUMENT_CHARS
    # a CSV cell past the csv module's field limit is a clear refusal, not a crash
    with pytest.raises(CorpusError, match="not a readable CSV"):
        uploads.read_upload("giant.csv", b"id,text\n1," + b"word " * 40_000 + b"\n")


def test_small_corpus_says_the_minimum():
    corpus = uploads.read_upload("tiny.txt", b"a short line\nanother short line\n")
    stats = uploads.corpus_stats(corpus)
    assert (stats.documents, stats.words) == (2, 6)
    problems = " ".join(uploads.training_problems(stats, min_count=5))
    assert f"at least {uploads.MIN_WORDS:,}" in problems and f"at least {uploads.MIN_DOCUMENTS}" in problems
    assert "Lower the minimum count" in problems
    assert uploads.lm_problems(stats)


def test_stats_and_samples_of_a_real_corpus(small_corpus):
    stats = uploads.corpus_stats(small_corpus, samples=5)
    assert stats.documents == 600 and stats.sentences > 1000 and stats.words > 20_000
    assert 0 < stats.vocabulary_at(5) < stats.vocabulary
    assert len(stats.samples) == 5 and all(len(s) <= 300 for s in stats.samples)
    assert uploads.training_problems(stats, min_count=5) == []
    assert uploads.lm_problems(stats) == []


def test_names_are_sanitised():
    assert user_jobs.user_bundle("../../etc/passwd") == "user/etc-passwd"
    assert user_jobs.user_bundle("<script>alert(1)</script>") == "user/script-alert-1-script"
    assert user_jobs.user_bundle("...") == "user/corpus"
    assert user_jobs.user_bundle("robe d'été 👗") == "user/robe-d-t"
    assert uploads.display_name("C:\\Users\\me\\reviews.csv") == "reviews.csv"
    assert uploads.display_name("../../secret.txt") == "secret.txt"


# ---------------------------------------------------------------- training jobs

def test_small_corpus_trains_end_to_end_and_the_explorer_lists_it(user_store, small_corpus):
    registry = jobs.JobRegistry(max_running=1)
    settings = user_jobs.EmbeddingSettings(architectures=("skipgram",), vector_size=32, window=4,
                                       min_count=3, epochs=2, projection_words=100)
    job = registry.submit("me", "word2vec", lambda job: user_jobs.train_user_embeddings(
        small_corpus, "Small wiki!", settings, lambda f, m, figures: job.report(f, m, **figures),
        lambda: job.stop_requested, owner="me"), bundle="user/Small-wiki")
    assert registry.wait(job, timeout=600)
    assert job.status == jobs.DONE, job.error
    assert job.result == "user/Small-wiki" and job.fraction == 1.0
    assert job.figures["words_per_second"] > 0

    assert "user/Small-wiki/skipgram" in [m.key for m in models.embedding_models("me")]
    assert "user/Small-wiki/skipgram" not in [m.key for m in models.embedding_models("someone else")]
    emb = models.load_embeddings("user/Small-wiki/skipgram")
    assert emb.dimensions == 32 and emb.words[0] == "the"
    assert models.load_projections("user/Small-wiki/skipgram")["tsne3"].shape == (100, 3)
    manifest = store.read_manifest("user/Small-wiki")
    assert manifest["bundle"] == "user/Small-wiki"
    assert manifest["artifacts"]["skipgram"]["corpus"]["documents"] == 600
    assert leftovers(user_store) == []
    assert {p.name for p in user_store.iterdir()} == {"user"}  # nothing outside model_store/user/
    # the bundle keeps its corpus (verified like any artifact) for the quiz and later sessions
    saved = user_bundles.load_saved_corpus("user/Small-wiki")
    assert saved.documents == small_corpus.documents and saved.sha256 == small_corpus.sha256
    assert saved.split("validation") == small_corpus.split("validation")
    assert user_bundles.saved_corpora("me") == ["user/Small-wiki"]


def test_cancelled_job_leaves_no_partial_model(user_store, small_corpus):
    registry = jobs.JobRegistry(max_running=1)
    slow = user_jobs.EmbeddingSettings(vector_size=32, min_count=3, epochs=200, projection_words=0)
    job = registry.submit("me", "word2vec", lambda job: user_jobs.train_user_embeddings(
        small_corpus, "cancel-me", slow, lambda f, m, figures: job.report(f, m, **figures),
        lambda: job.stop_requested))
    while job.fraction < 0.02 and job.active:
        time.sleep(0.05)
    assert job.status == jobs.RUNNING
    job.cancel()
    assert registry.wait(job, timeout=300)
    assert job.status == jobs.CANCELLED and "nothing was saved" in job.message
    assert not (user_store / "user" / "cancel-me").exists()
    assert "user/cancel-me/skipgram" not in [m.key for m in models.embedding_models()]
    assert leftovers(user_store) == []


def test_cancelled_retraining_keeps_the_previous_model(user_store, small_corpus):
    user_jobs.train_user_embeddings(small_corpus, "keep", FAST)
    assert {"user/keep/skipgram", "user/keep/cbow"} <= {m.key for m in models.embedding_models()}
    before = store.read_manifest("user/keep")["artifacts"]["skipgram"]["sha256"]
    with pytest.raises(stages.TrainingCancelled):
        user_jobs.train_user_embeddings(small_corpus, "keep", user_jobs.EmbeddingSettings(vector_size=64, epochs=3),
                                    should_stop=lambda: True)
    assert store.verified_path("user/keep", "skipgram")  # still there, checksum intact
    assert store.read_manifest("user/keep")["artifacts"]["skipgram"]["sha256"] == before
    assert leftovers(user_store) == []


def test_interrupted_swap_is_recovered(user_store, small_corpus):
    user_jobs.train_user_embeddings(small_corpus, "swap", FAST)
    # a crash between "move the old bundle aside" and "move the new one in" leaves only the old copy
    dead = 2**22 + 1  # above Linux's pid_max: no process has it
    aside = user_store / "user" / staging.STAGING / f"old-user-swap-{dead}-12345678"
    aside.parent.mkdir(parents=True, exist_ok=True)
    (user_store / "user" / "swap").rename(aside)
    half_trained = user_store / "user" / staging.STAGING / f"user-other-{dead}-87654321"
    half_trained.mkdir()
    (half_trained / "skipgram.npz").write_bytes(b"half")
    still_training = user_store / "user" / staging.STAGING / f"user-busy-{os.getpid()}-11111111"
    still_training.mkdir()  # a live process's staging copy (this one's): left alone
    assert "user/swap" not in store.bundles()
    assert staging.recover_staging() == [f"user-other-{dead}-87654321"]
    assert "user/swap" in store.bundles() and store.verified_path("user/swap", "skipgram")
    assert leftovers(user_store) == [still_training.name]


def test_retraining_under_the_same_name_is_not_served_stale(user_store, small_corpus):
    user_jobs.train_user_embeddings(small_corpus, "fresh", FAST)
    first = ui.embeddings("user/fresh/skipgram")
    assert first.dimensions == 32
    bigger = user_jobs.EmbeddingSettings(vector_size=48, min_count=3, epochs=1, projection_words=0)
    user_jobs.train_user_embeddings(small_corpus, "fresh", bigger)
    ui_train.forget_cached_models("user/fresh")  # what a job's on_success does
    assert ui.embeddings("user/fresh/skipgram").dimensions == 48


def test_lm_trains_stops_saves_and_resumes(user_store, small_corpus):
    registry = jobs.JobRegistry(max_running=1)
    settings = user_jobs.LMSettings(minutes=10, hidden=32, layers=1, batch_size=16, sequence_length=48,
                                eval_every=10, eval_batches=2)
    job = registry.submit("me", "lm", lambda job: user_jobs.train_user_lm(
        small_corpus, "lstm", settings, ui_train._reporter(job, curve=True), lambda: job.stop_requested), kind="lm")
    while len(job.history) < 2 and job.active:
        time.sleep(0.05)
    job.cancel()  # for the LSTM, stop means "stop and keep what it learnt"
    assert registry.wait(job, timeout=300)
    assert job.status == jobs.DONE, job.error
    assert job.history[0]["step"] == 10 and job.history[-1]["validation"] < job.history[0]["validation"] + 0.5
    assert "user/lstm" in models.language_model_bundles()
    lm = models.load_language_model("user/lstm")
    assert len("".join(lm.generate("the ", length=20, seed=1))) == 20
    checkpoint = user_jobs.user_lm_checkpoint(small_corpus.sha256, "lstm", settings)
    steps, seconds = stages.checkpoint_progress(checkpoint)
    assert steps >= 20 and seconds > 0
    assert checkpoint.is_relative_to(store.CHECKPOINTS)

    resume = user_jobs.LMSettings(minutes=0.05, hidden=32, layers=1, batch_size=16, sequence_length=48,
                              eval_every=10, eval_batches=2)
    user_jobs.train_user_lm(small_corpus, "lstm", resume)
    assert stages.checkpoint_progress(checkpoint)[0] > steps
    card = store.artifact_card("user/lstm", "lm")
    assert card["metrics"]["curves"]["steps"][0] == 10  # the first run's curve, continued
    kept = user_bundles.corpus_path("user/lstm")  # what the quiz deals real sentences from (sha256-checked)
    assert kept.is_relative_to(user_store / "user" / "lstm") and card["corpus"]["kept"] == kept.name
    assert load_corpus(str(kept)).documents == small_corpus.documents


def test_lm_refuses_a_corpus_with_empty_splits(user_store):
    corpus = uploads.read_upload("few.txt", ("A line of text that repeats itself. " * 40 + "\n").encode() * 3)
    with pytest.raises(CorpusError, match="split has only"):
        user_jobs.train_user_lm(corpus, "few", user_jobs.LMSettings(minutes=0.05, hidden=16))
    assert not (user_store / "user" / "few").exists() and leftovers(user_store) == []


# ---------------------------------------------------------------- the registry's rules

def blocker():
    release = threading.Event()
    return release, lambda job: release.wait(30) and "finished"


def test_registry_queues_past_the_cap_and_refuses_duplicates():
    registry = jobs.JobRegistry(max_running=1, max_waiting=1)
    release_a, work_a = blocker()
    release_b, work_b = blocker()
    a = registry.submit("alice", "A", work_a, bundle="user/a")
    while a.status != jobs.RUNNING:
        time.sleep(0.01)
    b = registry.submit("bob", "B", work_b, bundle="user/b")
    time.sleep(0.2)
    assert b.status == jobs.QUEUED and registry.queue_position(b) == 1
    with pytest.raises(jobs.JobRefused, match="already have a job"):
        registry.submit("alice", "A2", work_a)
    with pytest.raises(jobs.JobRefused, match="already training user/a"):
        registry.submit("carol", "C", work_a, bundle="user/a")
    with pytest.raises(jobs.JobRefused, match="waiting"):
        registry.submit("dave", "D", work_a)
    assert {j.bundle for j in registry.active()} == {"user/a", "user/b"}
    release_a.set()
    release_b.set()
    assert registry.wait(b, timeout=30)
    assert (a.status, a.result, b.status) == (jobs.DONE, "finished", jobs.DONE)
    assert registry.job_of("alice") is a and registry.job_of("nobody") is None


def test_cancelling_a_queued_job_never_runs_it():
    registry = jobs.JobRegistry(max_running=1)
    release, work = blocker()
    ran = []
    first = registry.submit("alice", "A", work)
    queued = registry.submit("bob", "B", lambda job: ran.append(1))
    queued.cancel()
    assert registry.wait(queued, timeout=30)
    assert queued.status == jobs.CANCELLED and ran == []
    release.set()
    assert registry.wait(first, timeout=30)


def test_failing_job_reports_its_error():
    registry = jobs.JobRegistry()

    def broken(job):
        raise ValueError("the corpus vanished")

    job = registry.submit("alice", "broken", broken)
    assert registry.wait(job, timeout=30)
    assert job.status == jobs.FAILED and job.error == "the corpus vanished"


# ---------------------------------------------------------------- the page

def page():
    return AppTest.from_file(str(ROOT / "pages/train_your_own.py"), default_timeout=120)


def test_page_refuses_hostile_uploads(user_store, monkeypatch):
    monkeypatch.setenv(uploads.UPLOAD_MAX_MB_ENV, "1")
    at = page().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Train your own"
    assert "Upload a file" in at.info[0].value
    for name, data, message in [("empty.txt", b"", "empty"),
                                ("binary.txt", bytes(range(256)) * 4, "binary"),
                                ("bomb.txt.gz", gzip.compress(b"a " * (3 * 2**20)), "expands to more than 4 MB"),
                                ("<b>x</b>.csv", b"id,n\n1,2\n3,4\n", "no usable text column")]:
        at.file_uploader(key="train_upload").set_value((name, data, "application/octet-stream")).run()
        assert not at.exception, (name, at.exception)
        assert any(message in w.value for w in at.warning), (name, [w.value for w in at.warning])
        assert "train_start" not in [b.key for b in at.button], name
        # no Train button for a refused file


def test_page_trains_an_uploaded_csv_and_lists_the_model(user_store, wiki_documents):
    at = page().run()
    at.file_uploader(key="train_upload").set_value(("My Reviews.csv", wiki_csv(wiki_documents[:400]), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="train_column").options == [ui_train.AUTOMATIC, "id", "text", "stars"]
    documents, sentences, words, vocabulary = (m.value for m in at.metric[:4])
    assert documents == "400" and int(words.replace(",", "")) > 10_000
    assert at.text_input(key="train_name").value == "My Reviews"
    at.select_slider(key="train_vector_size").set_value(25)
    at.slider(key="train_min_count").set_value(3)
    at.slider(key="train_epochs").set_value(1)
    at.select_slider(key="train_projection_words").set_value(0)
    at.radio(key="train_lm_size").set_value("small (64 × 1)")
    at.slider(key="train_lm_minutes").set_value(1)
    train = at.button(key="train_start")
    assert train.label == "Train word vectors and the LSTM"  # one path: what every page needs
    train.click().run()
    assert not at.exception, at.exception

    registry = ui_train.job_registry()
    job = registry.job_of(at.session_state[ui.OWNER_COOKIE])
    assert job is not None and job.bundle == "user/My-Reviews"
    while not job.history and job.active:  # the word vectors are saved, and the LSTM has a point
        time.sleep(0.2)
    job.cancel()  # "Stop and save": the LSTM keeps what it learnt
    assert registry.wait(job, timeout=600) and job.status == jobs.DONE, job.error
    assert "lm" in store.read_manifest("user/My-Reviews")["artifacts"]
    at.run()
    assert not at.exception, at.exception
    assert any("Saved as `user/My-Reviews`" in s.value for s in at.success)
    assert "user/My-Reviews" in list(at.dataframe[-1].value["bundle"])
    assert "user/My-Reviews/skipgram" in [m.key for m in models.embedding_models(at.session_state[ui.OWNER_COOKIE])]
    assert "user/My-Reviews/skipgram" not in [m.key for m in models.embedding_models()]  # private until shared
    vectors = models.load_embeddings("user/My-Reviews/skipgram").vectors
    assert vectors.shape[1] == 25 and np.isfinite(vectors).all()

    # another file under the same name: the page says training would replace the model
    at.file_uploader(key="train_upload").set_value(("My Reviews.csv", wiki_csv(wiki_documents[400:800]), "text/csv"))
    at.run()
    assert any("already holds models of another corpus" in w.value for w in at.warning)


def test_page_trains_and_stops_the_lstm_on_a_built_in_corpus(user_store):
    at = page().run()
    at.radio(key="train_source").set_value(WIKI).run()
    assert not at.exception, at.exception
    assert int(at.metric[0].value.replace(",", "")) > 1000  # documents of the Wikipedia sample
    assert at.text_input(key="train_name").value == WIKI
    at.radio(key="train_lm_size").set_value("small (64 × 1)")
    at.slider(key="train_lm_minutes").set_value(1)
    at.select_slider(key="train_vector_size").set_value(25)
    at.slider(key="train_epochs").set_value(1)
    at.select_slider(key="train_projection_words").set_value(0)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception

    registry = ui_train.job_registry()
    job = registry.job_of(at.session_state[ui.OWNER_COOKIE])
    assert job.kind == "lm" and job.bundle == f"user/{WIKI}"
    while not job.history and job.active:  # past the word vectors, into the LSTM
        time.sleep(0.1)
    at.run()
    stop = at.button(key=f"train_cancel_{job.id}")
    assert stop.label == "Stop and save"
    stop.click().run()
    assert registry.wait(job, timeout=300) and job.status == jobs.DONE, job.error
    assert job.history  # stopping validates the last step: a point on the curve
    at.run()
    assert not at.exception, at.exception
    # after training: its score beside the same corpus's n-gram yardstick, what the unit means, samples
    labels = [m.label for m in at.metric]
    assert "Your LSTM" in labels and any(label.startswith("Yardstick: a ") for label in labels), labels
    assert any("What nats/char means" in m.value for m in at.markdown)
    assert len([t for t in at.text if t.value.strip()]) >= 3
    assert f"user/{WIKI}" in models.language_model_bundles(at.session_state[ui.OWNER_COOKIE])
    assert any("A checkpoint of this corpus and LSTM size exists" in c.value for c in at.caption)
    assert at.button(key="train_lm_start").label == "Only the LSTM, 1 more minute(s)"

    # a later session of the same browser (its owner cookie) finds the corpus kept in the bundle and
    # resumes from the same checkpoint; another browser is not offered that text at all
    stranger = page().run()
    assert f"user/{WIKI}" not in stranger.radio(key="train_source").options
    later = page()
    later.session_state[ui.OWNER_COOKIE] = at.session_state[ui.OWNER_COOKIE]
    later.run()
    later.radio(key="train_source").set_value(f"user/{WIKI}").run()
    assert not later.exception, later.exception
    assert later.metric[0].value == at.metric[0].value
    later.radio(key="train_lm_size").set_value("small (64 × 1)").run()
    assert later.button(key="train_lm_start").label.startswith("Only the LSTM, 3 more")


# ---------------------------------------------------------------- hostile files (tests/hostile_files.py)

@pytest.mark.parametrize("byte_order", ["le", "be"])
@pytest.mark.parametrize("text", ["une robe d'été\nun café crème\n", "فستان جميل جدا\nقميص أزرق\n"])
def test_utf16_without_a_bom_is_named_and_explained(byte_order, text):
    from tests.hostile_files import utf16_without_bom

    with pytest.raises(CorpusError, match=rf"UTF-16{byte_order.upper()}, without a byte-order mark.*iconv -f "
                                          rf"UTF-16{byte_order.upper()} -t UTF-8"):
        uploads.read_upload("windows.txt", utf16_without_bom(text, byte_order))


def test_a_single_line_is_cut_at_word_boundaries_in_one_pass(wiki_documents):
    """A corpus on one line, with and without sentence ends: every piece is short, no word is cut,
    and nothing is lost (bench/upload_preview.py measures the 50 MB case: linear time and memory)."""
    from tests.hostile_files import single_line

    line = single_line(wiki_documents[:400]).decode()
    no_stops = line.replace(". ", " ").replace("? ", " ").replace("! ", " ")
    for text in (line, no_stops):
        pieces, cut = uploads.cut_long_documents([text])
        assert cut == 1 and max(map(len, pieces)) <= uploads.MAX_DOCUMENT_CHARS
        assert " ".join(pieces).split() == text.split()  # the same words in the same order: none cut in two


@pytest.mark.parametrize("kind", ["one line", "paragraphs, gzipped"])
def test_the_preview_streams_an_upload_and_counts_what_the_whole_corpus_holds(wiki_documents, kind):
    """The page's preview reads an upload as a stream, a chunk and a document at a time: at its peak it
    holds less than twice the text's size (issue 26; most of it is the vocabulary's counts, whatever the
    size: bench/upload_preview.py measures whole processes, 190 MB of text among them), and it counts
    what the corpus read whole holds."""
    import tracemalloc

    text = ("\n\n" if kind == "paragraphs, gzipped" else " ").join(wiki_documents).encode()
    text = text * (4 * 2**20 // len(text) + 1)  # some 4 MB
    name, data = ("big.txt", text) if kind == "one line" else ("big.txt.gz", gzip.compress(text))
    tracemalloc.start()
    try:
        stats, notices = uploads.preview_upload(name, data)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"{kind}: {len(text) / 2**20:.1f} MB of text, the preview's peak {peak / 2**20:.1f} MB")
    assert peak < 2 * len(text)
    corpus = uploads.read_upload(name, data)
    whole = uploads.corpus_stats(corpus)
    assert (stats.documents, stats.sentences, stats.words, stats.vocabulary, stats.characters) == \
        (whole.documents, whole.sentences, whole.words, whole.vocabulary, whole.characters)
    assert stats.documents == len(corpus.documents) and notices == corpus.notices
    assert len(stats.samples) == 5 and all(any(s.rstrip("…") in d for d in corpus.documents) for s in stats.samples)


def test_word_vectors_of_texts_wordsim_cannot_score_say_n_a(user_store):
    from app.catalog import cards
    from tests.hostile_files import arabic_corpus, small_vocabulary_corpus

    settings = user_jobs.EmbeddingSettings(vector_size=16, min_count=5, epochs=1, projection_words=0)
    for name, data in (("arabic", arabic_corpus()), ("tiny-vocabulary", small_vocabulary_corpus())):
        corpus = uploads.read_upload(f"{name}.txt", data)
        assert uploads.corpus_problems(uploads.corpus_stats(corpus), ["embeddings"], 5) == []
        bundle = user_jobs.train_user_embeddings(corpus, name, settings)
        metrics = store.artifact_card(bundle, "skipgram")["metrics"]
        assert metrics["wordsim353"]["spearman"] is None and metrics["simlex999"]["spearman"] is None
        row = next(r for r in cards.card_rows() if r["bundle"] == bundle and r["model"] == "skipgram")
        assert "WordSim-353 ρ = n/a" in row["figures"]


def test_models_belong_to_their_browser_until_shared(user_store, small_corpus):
    alice, bob = "a" * 32, "b" * 32
    bundle = user_jobs.train_user_embeddings(small_corpus, "alices", FAST, owner=alice)
    key = f"{bundle}/skipgram"
    assert key in [m.key for m in models.embedding_models(alice)]
    assert key not in [m.key for m in models.embedding_models(bob)] + [m.key for m in models.embedding_models()]
    assert user_bundles.saved_corpora(bob) == [] and user_bundles.saved_corpora(alice) == [bundle]
    for change in (lambda: user_bundles.set_shared(bundle, bob, True), lambda: user_bundles.delete(bundle, bob),
                   lambda: user_jobs.train_user_embeddings(small_corpus, "alices", FAST, owner=bob)):
        with pytest.raises(user_bundles.NotYours):
            change()
    user_bundles.set_shared(bundle, alice, True)  # one click on the page
    assert key in [m.key for m in models.embedding_models(bob)] and user_bundles.is_shared(bundle)
    assert not user_bundles.can_change(bundle, bob) and user_bundles.saved_corpora(bob) == []  # read-only for bob
    user_jobs.train_user_embeddings(small_corpus, "alices", FAST, owner=alice)  # retraining keeps it shared
    assert user_bundles.is_shared(bundle)
    user_bundles.delete(bundle, alice)
    assert not (user_store / "user" / "alices").exists()


def test_the_cli_and_the_page_train_the_same_bundle(user_store, wiki_documents, tmp_path):
    data = "\n".join(wiki_documents[:300]).encode()
    (tmp_path / "same.txt").write_bytes(data)
    assert cli.main(["--corpus", str(tmp_path / "same.txt"), "--only", "embeddings", "--epochs", "1",
                       "--vector-size", "16", "--min-count", "3"]) == 0
    from_cli = store.read_manifest("user/same")
    page = user_jobs.train_user_embeddings(uploads.read_upload("same.txt", data), "same-page", user_jobs.EmbeddingSettings(
        architectures=("skipgram", "cbow"), vector_size=16, min_count=3, epochs=1, projection_words=0))
    from_page = store.read_manifest(page)
    assert set(from_cli["artifacts"]) == set(from_page["artifacts"]) == {"corpus", "skipgram", "cbow"}
    assert from_cli["artifacts"]["corpus"]["sha256"] == from_page["artifacts"]["corpus"]["sha256"]
    assert from_cli["artifacts"]["skipgram"]["corpus"] == {**from_page["artifacts"]["skipgram"]["corpus"]}
    assert from_cli["owner"] is None and from_cli["shared"]  # the command line's bundles are the room's
    assert user_bundles.load_saved_corpus("user/same").documents == uploads.read_upload("same.txt", data).documents


def test_the_command_line_never_takes_over_a_visitors_model(user_store, wiki_documents, tmp_path, capsys):
    visitor = "c" * 32
    data = "\n".join(wiki_documents[:300]).encode()
    bundle = user_jobs.train_user_embeddings(uploads.read_upload("austen.txt", data), "austen", FAST, owner=visitor)
    (tmp_path / "austen.txt").write_bytes(data)
    command = ["--corpus", str(tmp_path / "austen.txt"), "--epochs", "1", "--vector-size", "16", "--min-count", "3"]
    for only in ("embeddings", "lm", "decks"):
        assert cli.main([*command, "--only", only]) == 2
        assert "belongs to a visitor" in capsys.readouterr().err
    manifest = store.read_manifest(bundle)
    assert manifest["owner"] == visitor and not manifest["shared"]  # untouched: still theirs, still private
    assert cli.main([*command, "--only", "embeddings", "--name", "austen-cli"]) == 0  # under another name it trains
    assert store.read_manifest("user/austen-cli")["owner"] is None
    assert not user_bundles.can_change("user/austen-cli", visitor)  # and a browser cannot take the CLI's either


def test_other_visitors_jobs_are_counted_never_named():
    registry = jobs.JobRegistry(max_running=1)
    release, work = blocker()
    mine = registry.submit("me", "word2vec → user/mine", work, bundle="user/mine", kind="word2vec")
    theirs = registry.submit("them", "char-LSTM → user/secret-name", work, bundle="user/secret-name", kind="lm")
    try:
        assert registry.others_summary("me") == "1 other job(s) on this server: char-LSTM"
        assert "secret" not in registry.others_summary("me") and "mine" not in registry.others_summary("them")
        assert registry.others_summary("nobody-else") == "2 other job(s) on this server: word2vec, char-LSTM"
    finally:
        release.set()
        registry.wait(mine, 30)
        registry.wait(theirs, 30)


# ---------------------------------------------------------------- a newcomer's refusals, yardstick, quiet jobs

def test_upload_limit_is_written_in_the_page(monkeypatch):
    monkeypatch.setenv(uploads.UPLOAD_MAX_MB_ENV, "7")
    at = page().run()
    assert any("Limit: 7 MB a file" in c.value for c in at.caption)


def test_one_broken_jsonl_line_is_skipped_with_a_notice(wiki_documents):
    data = hostile_files.jsonl_with_one_broken_line(wiki_documents[:1500], broken_at=742)
    corpus = uploads.read_upload("export.jsonl", data)
    assert len(corpus.documents) >= 1499
    assert any("Skipped 1 of 1,500 lines" in n and "line 742" in n for n in corpus.notices), corpus.notices
    # a file mostly broken is still refused, naming the lines, whole
    mostly_broken = b"\n".join([b'{"text": "a whole line"}'] * 3 + [b'{"text": "cut'] * 5)
    with pytest.raises(CorpusError, match=r"5 of its 8 lines are not JSON: line 4 .* and 2 more\. .*\{\"text\": \"…\"\}"):
        uploads.read_upload("export.jsonl", mostly_broken)


def test_page_shows_a_skipped_jsonl_line_and_trains(user_store, wiki_documents):
    at = page().run()
    data = hostile_files.jsonl_with_one_broken_line(wiki_documents[:1500], broken_at=742)
    at.file_uploader(key="train_upload").set_value(("export.jsonl", data, "application/json")).run()
    assert not at.exception, at.exception
    assert any("line 742" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.button(key="train_start").disabled


def test_unsegmented_chinese_says_why_and_still_offers_the_lstm(user_store):
    corpus = uploads.read_upload("评论.txt", hostile_files.chinese_corpus())
    stats = uploads.corpus_stats(corpus)
    problems = uploads.corpus_problems(stats, ["embeddings"], 5)
    assert len(problems) == 1 and "without spaces between words" in problems[0] and "Vocabulary" not in problems[0]
    assert uploads.corpus_problems(stats, ["lm"], 1) == []
    at = page().run()
    at.file_uploader(key="train_upload").set_value(("评论.txt", hostile_files.chinese_corpus(), "text/plain")).run()
    assert not at.exception, at.exception
    assert any("without spaces between words" in w.value for w in at.warning)
    assert at.button(key="train_start").label == "Train the LSTM"


def test_emoji_only_text_trains_no_word_vectors_and_says_so():
    stats = uploads.corpus_stats(uploads.read_upload("emoji.txt", hostile_files.emoji_only_corpus()))
    assert stats.words == 0
    assert any("0 words" in p for p in uploads.corpus_problems(stats, ["embeddings"], 5))


def test_the_yardstick_is_the_same_corpus_ngram(small_corpus):
    baseline = user_jobs.ngram_baseline(small_corpus)
    assert baseline["order"] == user_jobs.BASELINE_ORDER
    assert 1.0 < baseline["validation_nats_per_char"] < 3.0  # English characters: between a good LM and chance


def test_a_page_job_writes_no_progress_lines_to_the_log(user_store, small_corpus, capfd):
    reports = []
    settings = user_jobs.LMSettings(minutes=0.5, hidden=16, layers=1, batch_size=8, sequence_length=32,
                                    eval_every=5, eval_batches=1)
    user_jobs.train_user_lm(small_corpus, "quiet", settings, progress=lambda *a: reports.append(a))
    out, err = capfd.readouterr()
    assert reports and any("val_loss" in figures for _f, _m, figures in reports)  # the page hears every point
    assert "step " not in out + err and "char-LSTM:" not in err, (out + err)[-500:]  # the log does not


def test_minutes_leave_out_a_user_bundles_decks(user_store, wiki_documents, tmp_path, monkeypatch, capsys):
    """--minutes bounds a file's run too: its decks (hours of fakes) are left out, with the command for later."""
    def must_not_run(*_args, **_kwargs):
        raise AssertionError("decks were prepared under --minutes")

    monkeypatch.setattr(cli, "prepare_decks", must_not_run)
    path = tmp_path / "novel.txt"
    path.write_text("\n".join(wiki_documents[:300]), encoding="utf-8")
    assert cli.main(["--corpus", str(path), "--name", "novel", "--only", "decks", "--minutes", "1"]) == 0
    assert "--name novel --only decks" in capsys.readouterr().err


def test_models_of_text_without_words_are_not_offered_in_fake_or_real(user_store, small_corpus):
    """Emoji alone, or Chinese without spaces: the LSTM trains (the gates and the playground use it), and
    Fake or real?, which tells sentences apart word by word, leaves it out and says why."""
    from app.game import quiz

    assert uploads.quiz_problem(small_corpus) is None
    assert "without spaces" in uploads.quiz_problem(uploads.read_upload("zh.txt", hostile_files.chinese_corpus()))
    emoji = uploads.read_upload("emoji.txt", hostile_files.emoji_only_corpus())
    settings = user_jobs.LMSettings(minutes=0.2, hidden=16, layers=1, batch_size=8, sequence_length=32,
                                    eval_every=5, eval_batches=1)
    bundle = user_jobs.train_user_lm(emoji, "emoji", settings)
    playable, notices = quiz.playable_bundles([bundle])
    assert playable == [] and any(bundle in n and "no words" in n for n in notices), notices


def test_a_gzip_preview_allocates_for_its_text_not_for_the_cap(wiki_documents):
    """A .gz is expanded a megabyte at a time: reading it costs about what reading the plain text
    costs, never the 200 MB cap up front (a 1 MB read(limit) allocated the whole cap)."""
    import tracemalloc

    text = "\n".join(wiki_documents[:2000]).encode("utf-8")

    def peak(name: str, data: bytes) -> int:
        tracemalloc.start()
        try:
            uploads.read_upload(name, data)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    plain, gzipped = peak("novel.txt", text), peak("novel.txt.gz", gzip.compress(text))
    assert gzipped < plain + 2 * len(text), (plain / len(text), gzipped / len(text))
