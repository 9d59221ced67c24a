"""How much better than counting are the LSTMs? Stateful test-split loss against Kneser-Ney n-grams.

Character level: the bundle's char-LSTM reads the whole test split once, front to back, its
state carried from document to document (documents joined by the training stream's line break),
against character 7-gram and 9-gram Kneser-Ney models fitted on the train split. Both read the
same character stream through the LSTM's vocabulary (rare characters become its unknown one).

Word level: the bundle's word LSTM (``app/lm/wordlm.py``) against a word 3-gram Kneser-Ney model on
the same token stream (words, punctuation marks, <unk>, <eos>), as perplexity.

    python bench/baselines.py [--bundle fashion-reviews] [--orders 9,7] [--record] [--write-docs]

``--record`` writes the figures into the bundle's manifest (the char-LSTM's ``stateful_test``
metrics; the word LSTM's own card records its figures when it is trained), for the model cards.
``--write-docs`` writes the table into docs/models.md ("How much better than counting?").
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
from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402


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


def word_rows(bundle: str, order: int = 3) -> list[tuple[str, float, float, float]]:
    """(model, test perplexity, seconds, validation perplexity) rows, if the bundle has a word LSTM."""
    if "wordlm" not in store.read_manifest(bundle)["artifacts"]:
        return []
    corpus = load_corpus(bundle)
    lm = load_bundle_word_lm(bundle)
    streams = split_streams(corpus, lm.vocab)
    started = time.monotonic()
    lstm = stream_nats(lm.model, streams["test"], segments=STREAM_SEGMENTS)
    seconds = time.monotonic() - started
    lstm_validation = stream_nats(lm.model, streams["validation"], segments=STREAM_SEGMENTS)
    c = lm.model.config
    rows = [(f"word LSTM {c.layers}×{c.hidden_size}, tied embeddings started from the skip-gram vectors (committed)",
             float(np.exp(lstm)), seconds, float(np.exp(lstm_validation)))]
    started = time.monotonic()
    baseline = kneser_ney_nats(streams, lm.vocab, order)
    rows.append((f"word {order}-gram Kneser-Ney", float(np.exp(baseline["test"])), time.monotonic() - started,
                 float(np.exp(baseline["validation"]))))
    return rows


def table(chars: list[tuple[str, float, float]], words: list[tuple[str, float, float, float]]) -> str:
    """The rows as docs/models.md shows them: level | model | test loss | vs the LSTM (the first row of
    each level is the LSTM)."""
    lines = ["| level | model | test loss | vs the LSTM |", "|---|---|---|---|"]
    for index, (name, nats, _) in enumerate(chars):
        versus = f"{nats / chars[0][1] - 1:+.1%}" if index else ""
        lines.append(f"| characters | {name} | {nats:.3f} nats/char | {versus} |")
    for index, (name, perplexity, _, validation) in enumerate(words):
        versus = f"{perplexity / words[0][1] - 1:+.0%}" if index else ""
        lines.append(f"| words | {name} | perplexity {perplexity:.1f} (validation {validation:.1f}) | {versus} |")
    return "\n".join(lines)


def record(bundle: str, metrics: dict) -> None:
    manifest = store.read_manifest(bundle)
    manifest["artifacts"]["lm"]["metrics"]["stateful_test"] = metrics
    store.write_manifest(bundle, manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=FASHION if fashion_corpus_path().is_file() else WIKI)
    parser.add_argument("--orders", default="9,7", help="character n-gram orders")
    parser.add_argument("--record", action="store_true", help="write the figures into the bundle's manifest")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one is fastest on a busy CPU)")
    add_write_docs_flag(parser, "bench/baselines.py")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.bundle}, {args.threads} torch thread(s), load average {os.getloadavg()[0]:.1f}\n")
    rows, metrics = char_rows(args.bundle, [int(o) for o in args.orders.split(",")])
    words = word_rows(args.bundle)
    print(table(rows, words) + "\n")
    print("seconds: " + ", ".join(f"{row[0]} {row[2]:.0f} s" for row in [*rows, *words]) + "\n")
    if args.write_docs:
        write_docs("bench/baselines.py", table(rows, words))
    if args.record:
        record(args.bundle, metrics)
        print(f"recorded in model_store/{args.bundle}/manifest.json")


if __name__ == "__main__":
    main()
