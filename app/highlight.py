"""Text shown with a colour behind each piece (a character or a word), as escaped HTML.

Used by the gates page (text coloured by one LSTM cell), the playground (by probability) and
the quiz reveal (GLTR-style, by the model's rank). Everything a user typed or a model wrote goes
through ``html.escape``: ``<script>`` is shown, never run.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

# GLTR's buckets: the rank of the actual token among the model's guesses.
RANK_BUCKETS = ((1, "top 1", "#b7e4a5"), (10, "top 10", "#fff3a3"), (100, "top 100", "#ffc9a3"),
                (None, "beyond", "#f5a3b5"))


@dataclass(frozen=True)
class Piece:
    text: str
    colour: str  # any CSS colour
    tooltip: str = ""


def pieces_html(pieces: Iterable[Piece]) -> str:
    """One inline block of text; spaces and line breaks are kept as typed."""
    spans = []
    for piece in pieces:
        title = f' title="{html.escape(piece.tooltip)}"' if piece.tooltip else ""
        spans.append(f'<span style="background:{piece.colour}"{title}>{html.escape(piece.text)}</span>')
    return ('<div style="font-family:monospace;white-space:pre-wrap;word-break:break-word;'
            'line-height:1.9;color:#111">' + "".join(spans) + "</div>")


def diverging_colour(value: float) -> str:
    """-1 -> blue, 0 -> white, +1 -> red (values outside are clipped)."""
    v = max(-1.0, min(1.0, float(value)))
    fade = int(255 * (1 - abs(v)))
    return f"rgb(255,{fade},{fade})" if v >= 0 else f"rgb({fade},{fade},255)"


def probability_colour(probability: float) -> str:
    """Likely characters pale green, unlikely ones red."""
    p = max(0.0, min(1.0, float(probability)))
    return f"rgb({int(245 - 60 * p)},{int(160 + 80 * p)},{int(170 - 10 * p)})"


def rank_bucket(rank: int) -> tuple[str, str]:
    """(label, colour) of the GLTR bucket for a rank (1 = the model's top guess)."""
    for limit, label, colour in RANK_BUCKETS:
        if limit is None or rank <= limit:
            return label, colour
    raise AssertionError("unreachable: the last bucket has no limit")


def rank_legend_html() -> str:
    return pieces_html(Piece(f" {label} ", colour) for _, label, colour in RANK_BUCKETS)
