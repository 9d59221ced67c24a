"""How much better than counting are the LSTMs? Stateful test-split loss against Kneser-Ney n-grams.

Character level: the bundle's char-LSTM reads the whole test split once, front to back, its
state carried from document to document (documents joined by the training stream's line break),
against character 7-gram and 9-gram Kneser-Ney models fitted on the train split. Both read the
same character stream through the LSTM's vocabulary (rare characters become its unknown one).

Word level: the bundle's word LSTM (``app/lm/wordlm.py``) against a word 3-gram Kneser-Ney model on
the same token stream (words, punctuation marks, <unk>, <eos>), as perplexity.

    python bench/baselines.py [--bundle fashion-reviews] [--orders 7,9] [--record]

``--record`` writes the figures into the bundle's manifest (the char-LSTM's ``stateful_test``
metrics; the word LSTM's own card records its figures when it is trained), for the model cards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.catalog import models
from app.data.corpus import FASHION, WIKI, fashion_corpus_path, load_corpus  # noqa: E402
from app.lm.char_lstm import DOCUMENT_BREAK  # noqa: E402
from app.lm.ngram import KneserNey  # noqa: E402
from app.lm.wordlm import STREAM_SEGMENTS, kneser_ney_nats, load_bundle_word_lm, split_streams, stream_nats  # noqa: E402
from app.storage import store  # noqa: E402


def char_rows(bundle: str, orders: list[int]) -> tuple[list[tuple[str, float, float]], dict]:
    """(model, nats/char, seconds) rows on the test split, and the metrics to record."""
    corpus = load_corpus(bundle)
    lm = models.load_language_model(bundle)
    known = lm.vocab.index

    def through_vocab(split: str) -> str:
        text = DOCUMENT_BREAK.join(corpus.split(split))
        return "".join(c if c in known else lm.vocab.chars[0] for c in text)

    train, test = through_vocab("train"), through_vocab("test")
    started = time.monotonic()
    lstm = stream_nats(lm.model, np.array(lm.vocab.encode(DOCUMENT_BREAK + test)), segments=STREAM_SEGMENTS)
    c = lm.model.config
    rows = [(f"char-LSTM {c.layers}×{c.hidden_size} (committed)", lstm, time.monotonic() - started)]
    baselines = {}
    for order in orders:
        started = time.monotonic()
        ngram = KneserNey.fit(train, order, vocabulary=lm.vocab.chars)
        baselines[str(order)] = float(-ngram.log_probs(test, context=DOCUMENT_BREAK).mean())
        rows.append((f"character {order}-gram Kneser-Ney", baselines[str(order)], time.monotonic() - started))
    metrics = {"nats_per_char": round(lstm, 4), "characters": len(test),
               "kneser_ney": {order: round(nats, 4) for order, nats in baselines.items()}}
    return rows, metrics


def word_rows(bundle: str, order: int = 3) -> list[tuple[str, float, float]]:
    """(model, perplexity, seconds) rows on the test split, if the bundle has a word LSTM."""
    if "wordlm" not in store.read_manifest(bundle)["artifacts"]:
        return []
    corpus = load_corpus(bundle)
    lm = load_bundle_word_lm(bundle)
    streams = split_streams(corpus, lm.vocab)
    started = time.monotonic()
    lstm = stream_nats(lm.model, streams["test"], segments=STREAM_SEGMENTS)
    c = lm.model.config
    rows = [(f"word LSTM {c.layers}×{c.hidden_size}, tied skip-gram embeddings (committed)", float(np.exp(lstm)),
             time.monotonic() - started)]
    started = time.monotonic()
    baseline = kneser_ney_nats(streams, lm.vocab, order)["test"]
    rows.append((f"word {order}-gram Kneser-Ney", float(np.exp(baseline)), time.monotonic() - started))
    return rows


def table(rows: list[tuple[str, float, float]], unit: str) -> str:
    lines = [f"| model | test {unit} | vs the LSTM | s |", "|---|---|---|---|"]
    for name, value, seconds in rows:
        lines.append(f"| {name} | {value:.3f} | {value / rows[0][1] - 1:+.1%} | {seconds:.0f} |")
    return "\n".join(lines)


def record(bundle: str, metrics: dict) -> None:
    manifest = store.read_manifest(bundle)
    manifest["artifacts"]["lm"]["metrics"]["stateful_test"] = metrics
    store.write_manifest(bundle, manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=FASHION if fashion_corpus_path().is_file() else WIKI)
    parser.add_argument("--orders", default="7,9", help="character n-gram orders")
    parser.add_argument("--record", action="store_true", help="write the figures into the bundle's manifest")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one is fastest on a busy CPU)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.bundle}, {args.threads} torch thread(s), load average {os.getloadavg()[0]:.1f}\n")
    rows, metrics = char_rows(args.bundle, [int(o) for o in args.orders.split(",")])
    print(table(rows, "nats/char") + "\n")
    words = word_rows(args.bundle)
    if words:
        print(table(words, "perplexity") + "\n")
    if args.record:
        record(args.bundle, metrics)
        print(f"recorded in model_store/{args.bundle}/manifest.json")


if __name__ == "__main__":
    main()
