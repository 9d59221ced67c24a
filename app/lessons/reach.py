"""How far back does the real char-LSTM read? Its next-word guesses after a whole context against
the same context cut to its last N characters (the "Why LSTM?" page).

The fashion model reads about 15–30 characters back: past that, cutting the context barely moves a
guess. So the examples put the decisive words 20–40 characters before the end ("runs large" makes
the next size down the top guess), where the effect is large (the tests check it is).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from app.data.corpus import FASHION
from app.lm.char_lstm import DOCUMENT_BREAK, LanguageModel

LM_BUNDLE = FASHION  # the committed fashion-reviews char-LSTM: always in the store
CONTEXT_LIMIT = 200  # the model reads 15-30 characters back; a longer paste is cut to its end, with a note
DEFAULT_KEEP = 15  # the cut the page opens on: the decisive words of every example lie before it
# Written for this page, not taken from the corpus. Each: (context, the word the far words favour).
EXAMPLES = {
    "runs large → a size down": ("This runs large. I am usually a medium and the", "small"),
    "runs small → a size up": ("I usually wear a small, but this runs small, so I got a", "medium"),
    "sizes earlier → a size again": ("I tried the 4 and the 6, and I kept the", "small"),
}
DEFAULT_CONTEXT = EXAMPLES["runs large → a size down"][0]
LINE_COLOURS = ["#1f77b4", "#e6550d", "#2ca02c", "#9467bd", "#c2185b", "#8c564b"]  # distinct hues, in order


@dataclass
class ContextCheck:
    text: str  # what the model will read; "" when there is nothing to read
    notes: list[str]  # what the page should tell the user about their input


def check_context(text: str, lm: LanguageModel) -> ContextCheck:
    """Trim what the user typed to something the model can read, and say what was done."""
    text = (text or "").strip()
    if not text:
        return ContextCheck("", ["Type a few words for the model to continue."])
    notes = []
    if len(text) > CONTEXT_LIMIT:
        notes.append(f"That is {len(text):,} characters; the model reads the last {CONTEXT_LIMIT}.")
        text = text[-CONTEXT_LIMIT:]
    unknown = sorted({c for c in text if c not in lm.vocab.index})
    if unknown:
        shown = " ".join(repr(c) for c in unknown[:12]) + (" …" if len(unknown) > 12 else "")
        notes.append(f"The model never saw {shown} in its training text; it reads each as an unknown character.")
    return ContextCheck(text, notes)


def cut_lengths(length: int) -> list[int]:
    """0, 5, 10, 15, 20, 30, 40, 80, ... characters, then the whole context: the x axis of the reach chart."""
    cuts = [0] + [n for n in (5, 10, 15, 20, 30, 40, 80, 160, 320) if n < length]
    return cuts + [length]


def _ends_a_word(chars: list[str]) -> torch.Tensor:
    """Characters after which LanguageModel.next_words counts a word as finished."""
    return torch.tensor([not (c.isalnum() or c in "'-") for c in chars])


@torch.no_grad()
def word_probabilities(lm: LanguageModel, context: str, words: list[str]) -> list[float]:
    """P(word is the next word | context) for each word, exactly as next_words defines it:
    the product of the word's characters' probabilities and that of any word-ending character."""
    context = context if context.endswith(" ") else context + " "  # next_words reads it so
    logits, state = lm.model(lm.ids(DOCUMENT_BREAK + context))
    ends = _ends_a_word(lm.vocab.chars)
    probabilities = []
    for word in words:
        ids = lm.vocab.encode(word)
        after, _ = lm.model(torch.tensor([ids]), state)
        log_probs = torch.log_softmax(torch.cat([logits[0, -1:], after[0]]), dim=-1)  # before each char, then after
        spelled = log_probs[torch.arange(len(ids)), torch.tensor(ids)].sum()
        ended = torch.logsumexp(log_probs[-1][ends], dim=0)
        probabilities.append(float(torch.exp(spelled + ended)))
    return probabilities


def word_probability_by_cut(lm: LanguageModel, context: str, words: list[str]) -> dict[str, list]:
    """{"cuts": [N, ...], word: [P(word | last N characters), ...], ...} for the reach chart."""
    cuts = cut_lengths(len(context))
    by_cut = [word_probabilities(lm, context[len(context) - n:], words) for n in cuts]
    return {"cuts": cuts, **{word: [p[i] for p in by_cut] for i, word in enumerate(words)}}


@dataclass
class ContextComparison:
    dropped: str  # the part of the context the cut model no longer sees
    kept: str  # the last N characters
    rows: list[dict]  # the union of both top-k lists: P under the whole context and under the cut

    @property
    def highest(self) -> float:
        """The largest probability in the table: the full width of its bars."""
        return max(max(r["whole context"], r["last N characters"]) for r in self.rows)

    @property
    def biggest_change(self) -> dict:
        """The row of the whole context's top 3 whose probability the cut changes most (either way)."""
        def factor(row):
            whole, cut = row["whole context"], row["last N characters"]
            return max(whole, cut) / max(min(whole, cut), 1e-12)
        return max(self.rows[:3], key=factor)


def compare_contexts(lm: LanguageModel, context: str, keep: int, k: int = 5) -> ContextComparison:
    """The model's top-k next words after the whole context and after its last `keep` characters,
    with every listed word's probability under both, so a guess that drops out still has a number."""
    keep = max(0, min(keep, len(context)))
    kept = context[len(context) - keep:]
    words = list(dict.fromkeys(w for w, _ in lm.next_words(context, k) + lm.next_words(kept, k)))
    p_whole = word_probabilities(lm, context, words)
    p_cut = word_probabilities(lm, kept, words)
    rows = [{"word": w, "whole context": pw, "last N characters": pc, "change": pc / pw if pw > 0 else float("inf")}
            for w, pw, pc in zip(words, p_whole, p_cut, strict=True)]
    return ContextComparison(context[:len(context) - keep], kept, sorted(rows, key=lambda r: -r["whole context"]))


def reach_figure(reach: dict[str, list], keep: int | None = None):
    """P of the whole context's top guesses as the context is cut to its last N characters, one
    distinct colour per word; a dashed line marks the page's current cut."""
    import plotly.graph_objects as go

    # the cuts grow unevenly: evenly spaced categories read better than a linear axis
    labels = [str(n) for n in reach["cuts"][:-1]] + [f"all {reach['cuts'][-1]}"]
    fig = go.Figure()
    words = [w for w in reach if w != "cuts"]
    for word, colour in zip(words, LINE_COLOURS, strict=False):
        fig.add_scatter(x=labels, y=reach[word], mode="lines+markers", name=word,
                        line={"color": colour, "width": 3}, marker={"size": 8})
    if keep is not None and keep in reach["cuts"][:-1]:
        at = labels[reach["cuts"].index(keep)]
        fig.add_shape(type="line", xref="x", yref="paper", x0=at, x1=at, y0=0, y1=1,
                      line={"dash": "dash", "color": "#888"})
        fig.add_annotation(x=at, y=1, xref="x", yref="paper", yanchor="bottom", showarrow=False,
                           text=f"your cut: {keep}")
    fig.update_layout(xaxis_title="N: the last characters of the context the model reads",
                      yaxis_title="P(next word)", xaxis_type="category", height=400, font={"size": 15},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      margin=dict(l=10, r=10, t=60, b=10))
    return fig
