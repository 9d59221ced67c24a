"""Train a corpus's models and write them, with their model card, into the model store.

    python -m app.training --corpus fashion-reviews|wiki-sample|PATH [--only embeddings,lm,projections]
                        [--minutes N] [--seed S]

Stages: ``embeddings`` (word2vec skip-gram and CBOW), ``lm`` (the character LSTM; resumable
from ``checkpoints/<bundle>/lm-<hidden>x<layers>.pt``), ``projections`` (t-SNE and PCA of the most frequent
words), ``wordlm`` (the word LSTM over the skip-gram vocabulary, built-in corpora; resumable
from ``checkpoints/<bundle>/wordlm-<hidden>x<layers>.pt``), ``decks`` (the quiz's stored fakes, a
deck file per writer: the char-LSTM, and the word LSTM when the bundle has one).
``--corpus glove`` computes the GloVe projections. Every artifact is recorded in
``model_store/<bundle>/manifest.json`` with its sha256, parameters, seed and metrics.

Every run trains into a staging copy of the bundle (``app/storage/staging.py``) and swaps it into
place with a rename, so an interrupted run never leaves a half-written bundle. The
functions take ``progress`` (fraction of the stage, message, figures) and ``should_stop``
hooks: the "Train your own" page runs them as background jobs (``train_user_embeddings``,
``train_user_lm`` in ``app/training/user_jobs.py``) with a live progress bar and a cancel button.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import torch

from app.catalog import user_bundles
from app.data.corpus import FASHION, MAX_TEXT_BYTES, WIKI, Corpus, CorpusError, load_corpus
from app.data.uploads import corpus_problems, corpus_stats, read_upload
from app.game.decks import write_decks
from app.lm.char_training import torch_threads
from app.lm.wordlm import WordLMSettings, train_word_lm
from app.storage import store
from app.storage.staging import recover_staging, staged_bundle
from app.training.stages import (
    PROJECTIONS_SHARE,
    STAGES,
    checkpoint_path,
    checkpoint_progress,
    deck_writers,
    prepare_decks,
    record_glove_card,
    share_of_time_left,
    train_embeddings,
    train_lm,
    train_projections,
)
from app.training.user_jobs import (
    EmbeddingSettings,
    LMSettings,
    refuse_unless_changeable,
    train_user_embeddings,
    train_user_lm,
    user_bundle,
)
from app.vectors.word2vec import ARCHITECTURES


def bundle_name(corpus: str) -> str:
    """Built-in corpora keep their names; any other file trains into user/<safe name>."""
    if corpus in (FASHION, WIKI, "glove"):
        return corpus
    return user_bundle(Path(corpus).name.split(".")[0])


def read_cli_corpus(name: str, text_column: str | None) -> Corpus:
    """The corpus of ``--corpus``: a built-in one by name; a file read exactly as the page reads
    an upload (same checks, same documents, same sha256), so both train the same bundle."""
    if name in (FASHION, WIKI):
        return load_corpus(name, text_column=text_column)
    path = Path(name)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file (expected a .csv, .txt or .jsonl corpus, optionally .gz)")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise CorpusError(f"{path} is larger than {MAX_TEXT_BYTES // 2**20} MB")
    return read_upload(path.name, path.read_bytes(), text_column, limit_mb=MAX_TEXT_BYTES // 2**20)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt  # SIGTERM (kill, a closing terminal) ends the run like Ctrl-C: checkpoint first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="fashion-reviews, wiki-sample, glove or a file path")
    parser.add_argument("--only", default=",".join(s for s in STAGES if s != "wordlm"),
                        help="comma-separated stages: " + ", ".join(STAGES) + " (default: all but wordlm, "
                             "which trains for 48 minutes on a CPU)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="this run's time budget: the run, the LM's final evaluation included, ends within "
                             "it. The word vectors get a third of it when the LM trains too (word2vec stops midway "
                             "if it must, and its card says after how many epochs); the LM trains last, for what "
                             "is left (a checkpoint resumes)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the LM (default: 1 on a CPU)")
    parser.add_argument("--checkpoint-seconds", type=float, default=60.0, help="the LM's checkpoint at least this often")
    parser.add_argument("--lm-hidden", type=int, default=None, help="default: 384 (built-in corpora), else the page's")
    parser.add_argument("--lm-layers", type=int, default=None)
    parser.add_argument("--lm-steps", type=int, default=6000)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="default: 10 (built-in corpora), else the page's")
    parser.add_argument("--projection-words", type=int, default=None)
    parser.add_argument("--text-column", default=None, help="CSV column or JSONL field holding the text")
    parser.add_argument("--name", default=None, help="a file's model name, user/NAME (default: the file's name)")
    args = parser.parse_args(argv)

    stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s) {sorted(unknown)}; choose from {STAGES}")
    deadline = None if args.minutes is None else time.monotonic() + args.minutes * 60
    threads = args.threads or (None if torch.cuda.is_available() else 1)
    bundle = user_bundle(args.name) if args.name else bundle_name(args.corpus)
    if args.name and args.corpus in (FASHION, WIKI, "glove"):
        parser.error("--name names a model trained from a file; built-in corpora keep their names")
    if deadline is not None and "decks" in stages:
        # --minutes bounds the whole run, a file's too; writing and grading the decks' fakes takes far longer
        stages.remove("decks")
        again = f" --name {args.name}" if args.name else ""
        print(f"note: --minutes leaves out the quiz's decks (they take longer than a budget): afterwards run "
              f"`python -m app.training --corpus {args.corpus}{again} --only decks`", file=sys.stderr)
        if not stages:
            return 0
    if args.corpus == "glove":
        record_glove_card()
        if "projections" in stages:
            train_projections("glove", args.seed, args.projection_words or 4000)
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        corpus = read_cli_corpus(args.corpus, args.text_column) if {"embeddings", "lm", "wordlm", "decks"} & set(stages) else None
        if corpus is not None:

            problems = corpus_problems(corpus_stats(corpus), stages, args.min_count)
            if problems:
                raise CorpusError(" ".join(problems))
        recover_staging()
        if store.is_user_bundle(bundle):
            train_user_bundle(corpus, bundle, stages, args, deadline, threads)
        else:
            train_builtin_bundle(corpus, bundle, stages, args, deadline, threads)
    except (CorpusError, user_bundles.NotYours) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; the LM's checkpoint is saved: run the same command to resume", file=sys.stderr)
        return 130
    return 0


def _minutes_left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, (deadline - time.monotonic()) / 60)


WORD_VECTORS_SHARE = 1 / 3  # of a --minutes budget, when the LM trains after the word vectors


def word_vectors_deadline(deadline: float | None, stages: list[str]) -> float | None:
    """When the word vectors and their projections must be done: a third of the time left when the
    LM trains after them (it learns for every minute it gets), else all of it."""
    return share_of_time_left(deadline, WORD_VECTORS_SHARE if "lm" in stages else 1.0)


def train_builtin_bundle(corpus: Corpus, bundle: str, stages: list[str], args, deadline: float | None,
                         threads: int | None) -> None:
    """fashion-reviews / wiki-sample: the committed models' settings (2 x 384 LSTM, 10 epochs)."""
    hidden, layers = args.lm_hidden or 384, args.lm_layers or 2
    with torch_threads(threads):  # sampling and scoring thousands of candidates: see torch_threads
        ready_decks = {writer: prepare_decks(corpus, bundle, bundle, args.seed, writer) for writer in deck_writers(bundle)} \
            if "decks" in stages and not {"lm", "wordlm"} & set(stages) else {}
    with staged_bundle(bundle) as staging:
        vectors_deadline = word_vectors_deadline(deadline, stages)
        if "embeddings" in stages:
            vectors_share = 1 - PROJECTIONS_SHARE if "projections" in stages else 1.0
            train_embeddings(corpus, staging, args.seed, deadline=share_of_time_left(vectors_deadline, vectors_share),
                             vector_size=args.vector_size, window=args.window, min_count=args.min_count,
                             epochs=args.epochs or 10)
        if "projections" in stages:
            train_projections(staging, args.seed, args.projection_words or 4000, deadline=vectors_deadline)
        if "lm" in stages:
            checkpoint = checkpoint_path(bundle, hidden, layers)
            left = _minutes_left(deadline)
            train_lm(corpus, staging, args.seed, None if left is None else checkpoint_progress(checkpoint)[1] / 60 + left,
                     hidden, layers, args.lm_steps, checkpoint=checkpoint, deadline=deadline, threads=threads,
                     checkpoint_seconds=args.checkpoint_seconds)
        if "wordlm" in stages:

            settings = WordLMSettings()
            with torch_threads(threads):
                train_word_lm(corpus, staging, args.seed, settings,
                              store.CHECKPOINTS / bundle / f"wordlm-{settings.hidden}x{settings.layers}.pt")
        if "decks" in stages:

            for writer in deck_writers(staging):
                prepared, lm_sha = ready_decks.get(writer) or prepare_decks(corpus, bundle, staging, args.seed, writer)
                write_decks(staging, prepared, lm_sha, seed=args.seed, corpus=corpus.card())


def train_user_bundle(corpus: Corpus, bundle: str, stages: list[str], args, deadline: float | None,
                      threads: int | None) -> None:
    """A file: what the page does with an upload, with the page's settings unless told otherwise."""
    refuse_unless_changeable(bundle, None)  # before any stage, the decks' included
    name = store.user_bundle_name(bundle)
    if "embeddings" in stages or "projections" in stages:
        page = EmbeddingSettings()
        words = (args.projection_words or page.projection_words) if "projections" in stages else 0
        settings = EmbeddingSettings(architectures=tuple(ARCHITECTURES), vector_size=args.vector_size,
                                     window=args.window, min_count=args.min_count,
                                     epochs=args.epochs or page.epochs, projection_words=words, seed=args.seed)
        train_user_embeddings(corpus, name, settings, deadline=word_vectors_deadline(deadline, stages))
    if "lm" in stages:
        page, left = LMSettings(), _minutes_left(deadline)
        settings = LMSettings(minutes=page.minutes if left is None else left, hidden=args.lm_hidden or page.hidden,
                              layers=args.lm_layers or page.layers, seed=args.seed, threads=threads or page.threads,
                              max_steps=args.lm_steps if args.minutes is None else page.max_steps,
                              checkpoint_seconds=args.checkpoint_seconds)
        train_user_lm(corpus, name, settings)
    if "decks" in stages:
        prepared, lm_sha = prepare_decks(corpus, bundle, bundle, args.seed)
        with staged_bundle(bundle) as staging:
            write_decks(staging, prepared, lm_sha, seed=args.seed, corpus=corpus.card())


if __name__ == "__main__":
    sys.exit(main())
