"""What the "Train your own" page trains: a user bundle (``user/<name>``) of word2vec and a
char-LSTM, staged and swapped in whole, owned by the browser that trained it (or by the command
line) and never taken over by anyone else. The page runs these as background jobs
(``app/training/jobs.py``) with a live progress bar and a cancel button.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.catalog import user_bundles
from app.data.corpus import Corpus
from app.data.uploads import quiz_problem
from app.lm.char_lstm import DOCUMENT_BREAK
from app.lm.ngram import KneserNey
from app.storage import store
from app.storage.staging import bundle_corpus_sha, safe_name, staged_bundle
from app.training.stages import (
    PROJECTIONS_SHARE,
    Progress,
    StopAsked,
    _scaled,
    checkpoint_path,
    checkpoint_progress,
    share_of_time_left,
    train_embeddings,
    train_lm,
    train_projections,
)


@dataclass
class EmbeddingSettings:
    architectures: tuple[str, ...] = ("skipgram",)
    vector_size: int = 100
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    projection_words: int = 500  # 0: no projections
    seed: int = 1


# The page's LSTM sizes (hidden units, layers) and defaults, chosen for a 2-core CPU by
# bench/train_cpu.py (see the README's "Train your own" figures).
LM_SIZES = {"small (64 × 1)": (64, 1), "medium (128 × 1)": (128, 1), "large (256 × 1)": (256, 1)}
DEFAULT_LM_SIZE = "medium (128 × 1)"
DEFAULT_LM_MINUTES = 3


@dataclass
class LMSettings:
    """The page's char-LSTM job. Chosen for a busy 2-core CPU (bench/train_cpu.py): a one-layer
    128-unit LSTM on one thread, short windows (50 characters: twice the steps of 100, and words
    need no more), a high learning rate with a short warm-up, since a few minutes are ~1,000-3,000 steps."""
    minutes: float = DEFAULT_LM_MINUTES  # more minutes on top of what a checkpoint already trained
    hidden: int = 128
    layers: int = 1
    seed: int = 1
    max_steps: int = 200_000  # the minutes end training long before this
    batch_size: int = 32
    sequence_length: int = 50
    eval_every: int = 50  # a point on the live loss curve every 50 steps
    eval_batches: int = 4
    threads: int = 1  # see torch_threads
    learning_rate: float = 0.02
    warmup_steps: int = 20
    checkpoint_seconds: float = 60.0


def user_bundle(name: str) -> str:
    return store.user_bundle(safe_name(name))


def refuse_unless_changeable(bundle: str, owner: str | None) -> None:
    """NotYours, with what to do instead, unless ``owner`` (a browser's token, None for the command
    line) may write the user bundle."""
    if not user_bundles.can_change(bundle, owner):
        raise user_bundles.NotYours(f"{bundle} belongs to someone else: pick another name." if owner is not None else
                                   f"{bundle} belongs to a visitor of the app: the command line does not take over "
                                   f"their model. Train under another name: --name NAME.")


@contextmanager
def staged_user_bundle(bundle: str, corpus: Corpus, owner: str | None) -> Iterator[tuple[str, Corpus]]:
    """A staged copy of a user bundle (its old models kept if they are of the same corpus), the
    corpus kept in it, the owner recorded: (staging name, the corpus as the models cite it).
    NotYours if someone else owns the bundle (another browser, or for a browser the command line)."""
    refuse_unless_changeable(bundle, owner)
    previous = store.read_manifest(bundle) if (store.bundle_dir(bundle) / store.MANIFEST).is_file() else None
    with staged_bundle(bundle, keep_existing=bundle_corpus_sha(bundle) == corpus.sha256) as staging:
        kept = user_bundles.keep_corpus(corpus, staging, bundle)
        user_bundles.claim(staging, owner, previous)
        yield staging, kept


def train_user_embeddings(corpus: Corpus, name: str, settings: EmbeddingSettings,
                          progress: Progress | None = None, should_stop: StopAsked | None = None,
                          owner: str | None = None, deadline: float | None = None) -> str:
    """word2vec, then its projections, into user/<name>, swapped in whole or not at all.
    ``owner``: the browser training it (None: the command line). ``deadline`` (a time.monotonic()
    value, the command line's --minutes): word2vec stops for it (its card says where) and leaves
    the projections, which cannot stop midway, a quarter of the time; those it does not reach in
    time are left out."""
    bundle = user_bundle(name)
    embeddings_share = 1 - PROJECTIONS_SHARE if settings.projection_words else 1.0
    with staged_user_bundle(bundle, corpus, owner) as (staging, corpus):
        train_embeddings(corpus, staging, settings.seed, settings.architectures,
                         _scaled(progress, 0.0, embeddings_share), should_stop,
                         deadline=share_of_time_left(deadline, embeddings_share),
                         vector_size=settings.vector_size, window=settings.window,
                         min_count=settings.min_count, epochs=settings.epochs)
        if settings.projection_words:
            train_projections(staging, settings.seed, settings.projection_words,
                              _scaled(progress, embeddings_share, 1.0), should_stop, deadline=deadline)
    return bundle


def user_lm_checkpoint(corpus_sha256: str, name: str, settings: LMSettings) -> Path:
    return checkpoint_path(user_bundle(name), settings.hidden, settings.layers, corpus_sha256)


def train_user_lm(corpus: Corpus, name: str, settings: LMSettings,
                  progress: Progress | None = None, should_stop: StopAsked | None = None,
                  owner: str | None = None) -> str:
    """The char-LSTM for settings.minutes more minutes (resuming its checkpoint), into user/<name>;
    the whole job, final evaluation and save included, ends within those minutes."""
    deadline = time.monotonic() + settings.minutes * 60
    bundle = user_bundle(name)
    checkpoint = user_lm_checkpoint(corpus.sha256, name, settings)
    _steps, seconds_before = checkpoint_progress(checkpoint)
    baseline = ngram_baseline(corpus)  # seconds, and inside the minutes
    with staged_user_bundle(bundle, corpus, owner) as (staging, corpus):
        train_lm(corpus, staging, settings.seed, seconds_before / 60 + settings.minutes,
                 settings.hidden, settings.layers, settings.max_steps, checkpoint=checkpoint,
                 progress=progress, should_stop=should_stop, batch_size=settings.batch_size,
                 sequence_length=settings.sequence_length, eval_every=settings.eval_every,
                 eval_batches=settings.eval_batches, deadline=deadline, threads=settings.threads,
                 learning_rate=settings.learning_rate, warmup_steps=settings.warmup_steps,
                 checkpoint_seconds=settings.checkpoint_seconds)
        manifest = store.read_manifest(staging)
        manifest["artifacts"]["lm"]["metrics"]["ngram_baseline"] = baseline
        manifest["artifacts"]["lm"]["quiz_problem"] = quiz_problem(corpus)  # Fake or real? leaves it out if any
        store.write_manifest(staging, manifest)
    return bundle


BASELINE_ORDER = 5  # a character 5-gram: what counting alone reaches, the yardstick of the LSTM's nats/char
BASELINE_CHARACTERS = 2_000_000  # of the training split at most (a few seconds); the validation split: 200,000


def ngram_baseline(corpus: Corpus) -> dict:
    """The yardstick of a user's char-LSTM: a Kneser-Ney character n-gram counted on the same
    corpus's training split and scored on its validation split, as the LSTM is (app/lm/ngram.py)."""
    train_text = DOCUMENT_BREAK.join(corpus.split("train"))[:BASELINE_CHARACTERS]
    validation = DOCUMENT_BREAK.join(corpus.split("validation"))[:BASELINE_CHARACTERS // 10]
    symbols = len(set(train_text)) + 1  # and the unknown one
    order = max(1, min(BASELINE_ORDER, 63 // max(1, (symbols - 1).bit_length())))  # a key is one int64
    model = KneserNey.fit(train_text, order=order)
    return {"order": order, "validation_nats_per_char": round(model.nats_per_token(validation), 4)}


def train_user_bundle(corpus: Corpus, name: str, embedding: EmbeddingSettings | None, lm: LMSettings | None,
                      progress: Progress | None = None, should_stop: StopAsked | None = None,
                      owner: str | None = None) -> str:
    """What every page needs, in one job: the word vectors (explorer) then the char-LSTM (playground,
    gates, quiz). Either may be None when the corpus cannot train it (the page says why). The LSTM's
    minutes start once the word vectors are saved."""
    bundle = user_bundle(name)
    split = 0.3 if embedding is not None and lm is not None else (1.0 if lm is None else 0.0)
    if embedding is not None:
        train_user_embeddings(corpus, name, embedding, _scaled(progress, 0.0, split), should_stop, owner)
    if lm is not None and not (should_stop is not None and should_stop()):
        train_user_lm(corpus, name, lm, _scaled(progress, split, 1.0), should_stop, owner)
    return bundle
