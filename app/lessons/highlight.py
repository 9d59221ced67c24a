"""Text shown with a colour behind each piece (a character or a word), as escaped HTML.

Used by the gates page (text coloured by one LSTM cell), the playground (by probability) and
the quiz reveal (GLTR-style, by the model's rank). Everything a user typed or a model wrote goes
through ``html.escape``: ``<script>`` is shown, never run.
"""

from __future__ import annotations

import functools
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
    black or white, on its colour made readable (``readable_colours``: dark and light themes alike)."""
    spans = []
    for piece in pieces:
        tip = html.escape(piece.tooltip)
        attributes = f' title="{tip}" data-tip="{tip}" tabindex="0"' if piece.tooltip else ""
        background, text = readable_colours(piece.colour)
        spans.append(f'<span style="background:{background};color:{text}"{attributes}>{html.escape(piece.text)}</span>')
    return (TAP_TOOLTIP_CSS + '<div class="atelier-text" style="font-family:monospace;white-space:pre-wrap;'
            'word-break:break-word;line-height:1.9">' + "".join(spans) + "</div>")


MIN_CONTRAST = 7.0  # WCAG's AAA for text: the letters on every coloured piece reach it (the stage's figure too)
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


@functools.lru_cache(maxsize=4096)
def readable_colours(background: str) -> tuple[str, str]:
    """(background, text colour) for a piece: black or white text, whichever contrasts more with the
    background (WCAG contrast). On a mid colour where neither reaches MIN_CONTRAST (pure red: 5.3:1 under
    black, 4.0:1 under white) the background is mixed toward white under black text, or toward black under
    white text, whichever needs the smaller mix, just enough to reach it. A colour written other than as
    ``#rrggbb`` or ``rgb(r,g,b)`` (such as "transparent") is kept, under the theme's text colour ("inherit")."""
    rgb = _rgb(background)
    if rgb is None:
        return background, "inherit"
    on_black, on_white = contrast(rgb, BLACK), contrast(rgb, WHITE)
    if max(on_black, on_white) >= MIN_CONTRAST:
        return background, "#000" if on_black >= on_white else "#fff"
    lighter, darker = _mixed_until_readable(rgb, WHITE, BLACK), _mixed_until_readable(rgb, BLACK, WHITE)
    share, mixed, text = min((*lighter, "#000"), (*darker, "#fff"))
    return "#{:02x}{:02x}{:02x}".format(*mixed), text


def _mixed_until_readable(rgb: tuple[int, int, int], toward: tuple[int, int, int],
                          text: tuple[int, int, int]) -> tuple[float, tuple[int, int, int]]:
    """(share, colour): rgb mixed with the least share of ``toward`` (to 1/1024) that gives ``text`` on it
    MIN_CONTRAST. Mixing toward the text's opposite only raises the contrast, so halving the interval finds it."""
    def mixed(share: float) -> tuple[int, int, int]:
        return tuple(round(c + (t - c) * share) for c, t in zip(rgb, toward, strict=True))

    low, high = 0.0, 1.0
    for _ in range(10):
        middle = (low + high) / 2
        low, high = (low, middle) if contrast(mixed(middle), text) >= MIN_CONTRAST else (middle, high)
    return high, mixed(high)


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two sRGB colours: 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _rgb(colour: str) -> tuple[int, int, int] | None:
    colour = colour.strip().lower()
    if match := re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", colour):
        return tuple(int(part, 16) for part in match.groups())
    if match := re.fullmatch(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", colour):
        return tuple(min(255, int(part)) for part in match.groups())
    return None


# The diverging scale's ends: the strongest red and blue under which black text still reads at MIN_CONTRAST
# (7.0:1 and 7.0:1; pure red and blue would need the letters to flip to white part-way, or a lighter cell)
HIGH_END, LOW_END = (255, 94, 94), (136, 136, 255)


def diverging_colour(value: float) -> str:
    """-1 -> blue, 0 -> white, +1 -> red (values outside are clipped), every shade under black text at 7:1."""
    v = max(-1.0, min(1.0, float(value)))
    end = HIGH_END if v >= 0 else LOW_END
    r, g, b = (round(255 + (c - 255) * abs(v)) for c in end)
    return f"rgb({r},{g},{b})"


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
