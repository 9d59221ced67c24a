"""Train your own on a CPU: what the page's character-LSTM settings reach in their time budget.

    python bench/train_cpu.py [--minutes 3] [--sizes 128x1,256x1] [--batch 32] [--seq 100] [--threads 1] [--write-docs]

Builds a novel-sized corpus (about 700,000 words) from what every install has: gensim's bundled
Wikipedia sample, topped up with fashion reviews when the fashion corpus is present. Each size is
trained exactly as the page's job does (``user_jobs.train_user_lm``: one thread, the page's batch,
sequence length and evaluation) into a temporary model store, then sampled. Prints one row per
size: steps, steps/s, wall minutes (evaluation and save included), validation and test nats/char,
and the share of sampled words that are real words (words of the training split); --write-docs also
writes the rows into docs/models.md ("Train your own on a CPU").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402

TARGET_WORDS = 700_000


def novel_sized_corpus(target_words: int = TARGET_WORDS) -> tuple[str, bytes]:
    """(description, .txt bytes with one document per line) of about target_words words."""
    from app.data.corpus import FASHION, WIKI, CorpusError, load_corpus

    documents, words, sources = [], 0, []
    for name in (WIKI, FASHION):
        try:
            corpus = load_corpus(name)
        except CorpusError:
            continue
        taken = 0
        for document in corpus.documents:
            if words >= target_words:
                break
            documents.append(document)
            words += len(document.split())
            taken += 1
        sources.append(f"{taken:,} {name} documents")
    return f"{' + '.join(sources)} ({words:,} words)", "\n".join(documents).encode("utf-8")


def real_word_share(samples: list[str], vocabulary: set[str]) -> float:
    """Share of sampled words found in the training split (a sample's last word may be cut off)."""
    from app.data.corpus import tokenize

    words = [w for s in samples for w in tokenize(s)[:-1]]
    return sum(w in vocabulary for w in words) / max(1, len(words))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=None, help="default: the page's default")
    parser.add_argument("--sizes", default=None, help="HIDDENxLAYERS,... (default: the page's default size)")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--seq", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--samples", type=int, default=20)
    add_write_docs_flag(parser, "bench/train_cpu.py")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="train-cpu-"))
    os.environ["ATELIER_MODEL_STORE"] = str(workdir / "store")
    os.environ["ATELIER_CHECKPOINTS"] = str(workdir / "checkpoints")
    from app.data import uploads
    from app.data.corpus import tokenize
    from app.lm.char_lstm import load_language_model
    from app.lm.sampling import sample_batch
    from app.storage import store
    from app.training import user_jobs

    description, data = novel_sized_corpus()
    corpus = uploads.read_upload("novel-sized.txt", data, limit_mb=200)
    vocabulary = {w for d in corpus.split("train") for w in tokenize(d)}
    minutes = args.minutes or user_jobs.DEFAULT_LM_MINUTES
    sizes = [tuple(map(int, s.split("x"))) for s in args.sizes.split(",")] if args.sizes else [user_jobs.LM_SIZES[user_jobs.DEFAULT_LM_SIZE]]
    print(f"corpus: {description}; {sum(map(len, corpus.documents)):,} characters; "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    for hidden, layers in sizes:
        defaults = user_jobs.LMSettings()
        settings = user_jobs.LMSettings(minutes=minutes, hidden=hidden, layers=layers,
                                    batch_size=args.batch or defaults.batch_size,
                                    sequence_length=args.seq or defaults.sequence_length,
                                    threads=args.threads or defaults.threads,
                                    learning_rate=args.lr or defaults.learning_rate,
                                    warmup_steps=defaults.warmup_steps if args.warmup is None else args.warmup)
        started, load_start = time.monotonic(), os.getloadavg()[0]
        bundle = user_jobs.train_user_lm(corpus, f"bench-{hidden}x{layers}", settings)
        wall = time.monotonic() - started
        card = store.artifact_card(bundle, "lm")
        lm = load_language_model(store.verified_path(bundle, "lm"))
        samples = sample_batch(lm, args.samples, 300, temperature=0.8, seed=0)
        m = card["metrics"]
        rows.append((f"{hidden} × {layers}", f"{settings.batch_size} × {settings.sequence_length}, {settings.learning_rate:g}",
                     settings.threads, m["steps"], m["steps"] / max(1e-6, card["training_seconds"]), wall / 60,
                     m["validation_nats_per_char"], m["test_nats_per_char"], real_word_share(samples, vocabulary),
                     (load_start, os.getloadavg()[0])))
        print(f"sample: {samples[0][:160]!r}", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}; budget {minutes:g} min per size\n")
    print(table(rows))
    print("\n" + "; ".join(f"{row[0]}: {row[2]} thread(s), test {row[7]:.3f} nats/char" for row in rows))
    if args.write_docs:  # this run's sizes replace rows of the same size and settings; the others stay
        write_docs("bench/train_cpu.py", table(rows), merge=True)
    return 0


def table(rows: list[tuple]) -> str:
    """The rows as docs/models.md shows them ("Train your own on a CPU")."""
    lines = ["| size | batch × characters, learning rate | steps | steps/s | wall min | validation nats/char "
             "| real words in samples | load |", "|---|---|---|---|---|---|---|---|"]
    for size, shape, _threads, steps, rate, wall, val, _test, real, (load_start, load_end) in rows:
        load = f"{load_start:.3g}" if f"{load_start:.3g}" == f"{load_end:.3g}" else f"{load_start:.3g}–{load_end:.3g}"
        lines.append(f"| {size} | {shape} | {steps:,} | {rate:.1f} | {wall:.2f} | {val:.3f} | {real:.0%} | {load} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
