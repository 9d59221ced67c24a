"""What the explorer's point-cloud plot draws (``app/ui/point_cloud.js``), as plain JSON-ready dicts.

A *scene* holds:
- ``cloud``: the projected words, one point each, coloured by group (the legend switches groups off).
  It is the same for every lookup in a model's projection, so the page builds it once
  (``cloud_layer``); coordinates travel as base64 float32, groups as base64 bytes.
- ``marks``: a few words drawn large, with a label ("large", "normal" or none), the text a hover or tap shows, and
  whether a click on it looks its word up (``pick``):
  the query and its neighbours, or an analogy's words and its target.
- ``links``: lines between marks (query → neighbour), or arrows (the analogy's b → a, c → target).
- ``focus``: the centre and half-width to fly to, or None for the whole cloud.
- ``dims``, ``axes`` (axis titles), ``faded`` (the cloud dimmed under a zoomed-in neighbourhood),
  ``height``, ``touch`` (whether touch turns the plot or scrolls
  the page) and ``description`` (what a screen reader says).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from app.explorer.space import Colouring, ProjectedSpace
from app.vectors.embeddings import Embeddings
from app.vectors.projection import pca

PLOT_HEIGHT = 620  # a projector's screen; the page asks for PHONE_PLOT_HEIGHT on a phone
PHONE_PLOT_HEIGHT = 380  # under half of an 844-pixel screen: there is always page to swipe past it
ANALOGY_HEIGHT = 420
LABELLED_NEIGHBOURS = 5  # on a smaller plot (a phone) the rest are named on hover (or tap): no pile of words
# Violets, far from every category colour (app/explorer/space.py: CIELAB distance > 60) and readable on the
# light and the dark background alike (contrast > 3:1): a highlighted word never looks like a category's.
QUERY_COLOUR, NEIGHBOUR_COLOUR, INPUT_COLOUR = "#cc00ff", "#7722ff", "#1f77b4"


@dataclass
class Highlight:
    """A query word and its neighbours with their positions (query first)."""

    query: str
    neighbours: list[tuple[str, float]]
    coords: np.ndarray  # (1 + len(neighbours), dims)
    placed: list[bool]  # True where the word was placed, not projected

    @property
    def words(self) -> list[str]:
        return [self.query, *(w for w, _ in self.neighbours)]


def highlight_for(space: ProjectedSpace, emb: Embeddings, projection: str, query: str,
                  neighbours: list[tuple[str, float]]) -> Highlight:
    words = [query, *(w for w, _ in neighbours)]
    coords, placed = space.positions(words, emb, projection)
    return Highlight(query, neighbours, coords, placed)


def reprojected_highlight(words: list[str], coords: np.ndarray, query: str,
                          neighbours: list[tuple[str, float]]) -> Highlight:
    """The query and those of its neighbours that a re-projection holds, at their new places."""
    position = {w: i for i, w in enumerate(words)}
    kept = [(w, s) for w, s in neighbours if w in position]
    rows = [position[query], *(position[w] for w, _ in kept)]
    return Highlight(query, kept, coords[rows], [False] * len(rows))


def base64_array(values, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def cloud_layer(name: str, words: list[str], coords: np.ndarray, colouring: Colouring, colouring_name: str = "") -> dict:
    """The projected words as the plot's cloud. ``name`` tells clouds apart: the plot keeps its camera
    while the cloud stays the same and starts afresh on a new one; a new ``colouring_name`` repaints it."""
    names = list(colouring.colours)
    index = {group: i for i, group in enumerate(names)}
    return {"id": name, "colouring": colouring_name, "words": list(words), "xyz": base64_array(coords, "<f4"),
            "group": base64_array([index[g] for g in colouring.groups], "u1"),
            "groups": [{"name": group, "colour": colouring.colours[group]} for group in names]}


def zoom_ranges(highlight: Highlight, coords: np.ndarray) -> list[tuple[float, float]]:
    """Axis ranges centred on the query, wide enough for four neighbours in five: a far outlier
    stays off-screen (its line still points at it) rather than shrinking everything else."""
    centre = highlight.coords[0]
    distances = np.linalg.norm(highlight.coords[1:] - centre, axis=1)
    typical = 1.1 * float(np.quantile(distances, 0.8)) if len(distances) else 0.0
    half = max(typical, 0.03 * float((coords.max(axis=0) - coords.min(axis=0)).max()))
    return [(float(c - half), float(c + half)) for c in centre]


def _at(point) -> list[float]:
    return [round(float(c), 5) for c in point]


def explorer_scene(cloud: dict | None, coords: np.ndarray, axis_titles: list[str],
                   highlight: Highlight | None = None, zoom: bool = False, height: int = PLOT_HEIGHT,
                   touch: bool = True) -> dict:
    """The projected words (``cloud``, at ``coords``), and when there is a query, it and its neighbours
    marked, linked and listed on hover, with labels on the query and (zoomed in) every neighbour at a
    projector's size, its LABELLED_NEIGHBOURS closest on a smaller plot. ``zoom`` frames the
    neighbourhood, else the whole cloud."""
    dims = len(axis_titles)
    marks, links, focus = [], [], None
    if highlight is not None:
        # seen from afar, neighbours' labels would pile up; a projector's plot has room for all of them
        labelled = (len(highlight.neighbours) if height >= PLOT_HEIGHT else LABELLED_NEIGHBOURS) if zoom else 0
        scores = [None, *(s for _, s in highlight.neighbours)]
        for i, (word, at, placed, score) in enumerate(zip(highlight.words, highlight.coords, highlight.placed,
                                                          scores, strict=True)):
            tip = ("your word" if score is None else f"cosine {score:.3f}") + (", placed (not projected)" * placed)
            label = ("large" if i == 0 else "normal") if i <= labelled else False
            marks.append({"word": word, "at": _at(at), "colour": QUERY_COLOUR if i == 0 else NEIGHBOUR_COLOUR,
                          "size": 16 if i == 0 else 11, "shape": "diamond" if placed else "circle",
                          "label": label, "pick": True, "tip": tip})
        links = [{"from": 0, "to": i, "colour": NEIGHBOUR_COLOUR, "arrow": False} for i in range(1, len(marks))]
        if zoom:
            ranges = zoom_ranges(highlight, coords)
            focus = {"centre": [(low + high) / 2 for low, high in ranges], "half": (ranges[0][1] - ranges[0][0]) / 2}
    count = 0 if cloud is None else len(cloud["words"])
    description = f"A {dims}D map of {count:,} words" + (
        f"; “{highlight.query}” and its {len(highlight.neighbours)} nearest neighbours are marked" if highlight else "")
    return {"dims": dims, "cloud": cloud, "marks": marks, "links": links, "focus": focus, "axes": axis_titles,
            "faded": highlight is not None and zoom, "height": height, "touch": touch, "description": description}


def analogy_scene(emb: Embeddings, a: str, b: str, c: str, answers: list[tuple[str, float]],
                  touch: bool = True) -> dict:
    """The analogy as a parallelogram, in the 2D plane (PCA) that best fits just these words:
    arrows b → a and c → (c + a − b); the answers are the words nearest to that target point.
    A linear projection keeps vector arithmetic, which a t-SNE layout does not."""
    words = [a, b, c, *(w for w, _ in answers)]
    vectors = emb.unit[[emb.index[w] for w in words]]
    target = emb.unit[emb.index[c]] + emb.unit[emb.index[a]] - emb.unit[emb.index[b]]
    target /= max(float(np.linalg.norm(target)), 1e-8)  # 3CosAdd compares directions
    coords, _components, _mean, variance = pca(np.vstack([vectors, target]), 2)
    roles = ["a", "b", "c", *(f"answer {i}, cosine {s:.3f}" for i, (_, s) in enumerate(answers, 1))]
    colours = [INPUT_COLOUR, INPUT_COLOUR, QUERY_COLOUR, *[NEIGHBOUR_COLOUR] * len(answers)]
    marks = [{"word": word, "at": _at(at), "colour": colour, "size": 12, "shape": "circle", "label": "normal",
              "pick": True, "tip": role} for word, at, colour, role in zip(words, coords[:-1], colours, roles, strict=True)]
    marks.append({"word": "target", "at": _at(coords[-1]), "colour": QUERY_COLOUR, "size": 14, "shape": "cross",
                  "label": "normal", "pick": False, "tip": f"{c} + {a} − {b}"})
    links = [{"from": 1, "to": 0, "colour": INPUT_COLOUR, "arrow": True},
             {"from": 2, "to": len(marks) - 1, "colour": QUERY_COLOUR, "arrow": True}]
    return {"dims": 2, "cloud": None, "marks": marks, "links": links, "focus": None,
            "axes": [f"PC{i + 1} ({v:.0%})" for i, v in enumerate(variance[:2])], "faded": False,
            "height": ANALOGY_HEIGHT, "touch": touch,
            "description": f"{a} − {b} + {c}: the arrow from {b} to {a}, copied onto {c}, lands near the answers"}
