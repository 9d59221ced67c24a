"""Text shown with a colour behind each piece (a character or a word), as escaped HTML.

Used by the gates page (text coloured by one LSTM cell), the playground (by probability) and
the quiz reveal (GLTR-style, by the model's rank). Everything a user typed or a model wrote goes
through ``html.escape``: ``<script>`` is shown, never run.
"""

from __future__ import annotations

import html
import re
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


# A tooltip is the span's title (hover, on a desktop) and, for touch, a note a tap shows: the span
# takes focus (tabindex) and CSS prints its data-tip under it while focused.
TAP_TOOLTIP_CSS = (
    "<style>.atelier-text span[data-tip]{position:relative;cursor:help}"
    ".atelier-text span[data-tip]:focus{outline:2px solid #c2185b}"
    ".atelier-text span[data-tip]:focus::after{content:attr(data-tip);position:absolute;left:0;top:1.7em;"
    "z-index:10;white-space:pre;padding:2px 6px;border-radius:4px;background:#222;color:#fff;font-size:0.85em}"
    "</style>"
)


def pieces_html(pieces: Iterable[Piece]) -> str:
    """One inline block of text; spaces and line breaks are kept as typed. Each piece's text is
    black or white, whichever reads better on its background (dark and light themes alike)."""
    spans = []
    for piece in pieces:
        tip = html.escape(piece.tooltip)
        attributes = f' title="{tip}" data-tip="{tip}" tabindex="0"' if piece.tooltip else ""
        style = f"background:{piece.colour};color:{text_colour_on(piece.colour)}"
        spans.append(f'<span style="{style}"{attributes}>{html.escape(piece.text)}</span>')
    return (TAP_TOOLTIP_CSS + '<div class="atelier-text" style="font-family:monospace;white-space:pre-wrap;'
            'word-break:break-word;line-height:1.9">' + "".join(spans) + "</div>")


def text_colour_on(background: str) -> str:
    """Black on a light background, white on a dark one (WCAG relative luminance of an
    ``rgb(r,g,b)`` or ``#rrggbb`` colour); "inherit" (the theme's text colour) on anything else,
    such as "transparent"."""
    rgb = _rgb(background)
    if rgb is None:
        return "inherit"
    linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # black's contrast (L + 0.05) / 0.05 beats white's 1.05 / (L + 0.05) above L ≈ 0.179, where both
    # are 4.58: so whatever the background, the text reaches WCAG's 4.5 for body text
    return "#000" if luminance > 0.179 else "#fff"


def _rgb(colour: str) -> tuple[int, int, int] | None:
    colour = colour.strip().lower()
    if match := re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", colour):
        return tuple(int(part, 16) for part in match.groups())
    if match := re.fullmatch(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", colour):
        return tuple(min(255, int(part)) for part in match.groups())
    return None


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
