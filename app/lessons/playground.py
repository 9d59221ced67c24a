"""The LM playground's helpers: a sample streamed in chunks, text coloured by the model's
probability of each character (or GLTR's rank buckets), and how the next words change as the
context is cut. No Streamlit here: pages/playground.py calls these, the tests call them directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from app.lessons.gates import VISIBLE
from app.lessons.highlight import Piece, probability_colour, rank_bucket
from app.lm.char_lstm import LanguageModel, TextScore


def chunked(chars: Iterator[str], size: int = 8) -> Iterator[str]:
    """Group a character stream so a page redraws every few characters, not every one."""
    buffer = ""
    for char in chars:
        buffer += char
        if len(buffer) >= size:
            yield buffer
            buffer = ""
    if buffer:
        yield buffer


PRIME_COLOUR = "#e3ecff"


def sample_pieces(prime: str, written: str, score: TextScore | None = None,
                  colour_by: str = "probability") -> list[Piece]:
    """A generated sample: the user's start shaded, then what the model wrote, plain while it is
    being written and, once ``score`` (the model's own judgement of it) is there, each character
    coloured by the model's confidence in it, as the score tab and the quiz's reveal colour text."""
    start = [Piece(prime, PRIME_COLOUR, "your start")]
    if score is None:
        return [*start, Piece(written, "transparent")]
    return [*start, *score_pieces(score, [None] * len(written), colour_by)]


def score_pieces(score: TextScore, guesses_before: list[list[tuple[str, float]] | None],
                 colour_by: str = "probability") -> list[Piece]:
    """Each character coloured by how likely the model found it (or GLTR's rank bucket).

    guesses_before[t] are the model's top guesses for character t (None where not computed).
    """
    pieces = []
    for t, char in enumerate(score.text):
        probability, rank = float(np.exp(score.log_probs[t])), int(score.ranks[t])
        colour = probability_colour(probability) if colour_by == "probability" else rank_bucket(rank)[1]
        tooltip = f"P({VISIBLE.get(char, char)}) = {probability:.3f} · rank {rank}"
        if guesses_before[t]:
            tooltip += " · guesses: " + ", ".join(f"{VISIBLE.get(c, c)} {p:.2f}" for c, p in guesses_before[t])
        pieces.append(Piece(char, colour, tooltip))
    return pieces


def guesses_before_each(lm: LanguageModel, text: str, k: int = 5) -> list[list[tuple[str, float]] | None]:
    """The model's top-k guesses for each character of text, from what came before it.

    next_char_guesses gives the guesses after each character; shifted by one they are the guesses
    for the next. The first character follows only the document break: no guesses are listed.
    """
    after = lm.next_char_guesses(text[:-1], k) if len(text) > 1 else []
    return [None, *after] if text else []


def context_cut_rows(context: str, results: list[tuple[int, list[tuple[str, float]]]]) -> list[dict]:
    """Table rows: how the most likely next words change as the context is cut to its last N chars.

    One column per rank, so a guess that moves or drops out as the context shrinks stands out; the
    guesses come before the long context column, so a phone shows them without scrolling sideways.
    """
    k = max((len(words) for _, words in results), default=0)
    rows = []
    for length, words in results:
        kept = (context[-length:] if length else "")[-60:]  # the table shows at most the last 60
        row = {"last N characters": length}
        for rank in range(k):
            row[f"guess {rank + 1}"] = f"{words[rank][0]} {words[rank][1]:.1%}" if rank < len(words) else ""
        row["context the model reads"] = ("…" if len(kept) < len(context) else "") + kept.replace("\n", " ")
        rows.append(row)
    return rows
