"""The explorer's Plotly figures: the projected cloud with a word and its neighbours, and the
analogy's parallelogram.

They are built as plain JSON-ready dicts, numbers as Plotly's binary arrays, and handed to
``st.plotly_chart`` as a ``PlainFigure``: a ``go.Figure`` turns 4,000 points into objects,
deep-copies them and encodes each array again on every rerun (~20 ms, more than the rest of a
lookup); this way a rerun costs about 2 ms. ``go.Figure(figure.to_dict())`` validates one (tests).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from app.embeddings import Embeddings
from app.explorer.space import Colouring, ProjectedSpace

PLOT_HEIGHT = 620  # a projector's screen; the page asks for PHONE_PLOT_HEIGHT on a phone
PHONE_PLOT_HEIGHT = 380  # under half of an 844-pixel screen: there is always page to swipe past it
LABELLED_NEIGHBOURS = 5  # the rest of the neighbours are labelled on hover (or tap): no pile of words
WEBGL_FROM = 1500  # points: a 2D figure this big draws with WebGL; smaller ones with SVG, keeping the
# browser's WebGL contexts (a handful per page) for the big clouds
QUERY_COLOUR, NEIGHBOUR_COLOUR = "#ff1f5a", "#ff9f1c"  # read on light and dark themes alike

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


class PlainFigure(go.Figure):
    """A figure held as the dict Plotly.js draws. Streamlit asks a figure for ``to_dict()``; this
    one answers with its dict as it is, with no copy and no re-encoding. It skips go.Figure's own
    set-up (a deep copy of the default template, 3 ms): it holds no Plotly objects."""

    def __init__(self, data: list[dict], layout: dict):  # noqa: no super().__init__(), see above
        self._plain = {"data": data, "layout": layout}

    def to_dict(self) -> dict:
        return self._plain


def binary_array(values) -> dict:
    """Numbers in Plotly's binary array form (float32, base64): what plotly.py sends for numpy arrays."""
    data = np.ascontiguousarray(values, dtype="<f4")
    return {"dtype": "f4", "bdata": base64.b64encode(data.tobytes()).decode("ascii")}


def _scatter(dims: int, coords: np.ndarray, webgl: bool = True, **kwargs) -> dict:
    """A scatter trace as a plain dict: Scatter3d in 3D, Scattergl (or SVG Scatter) in 2D."""
    axes = {axis: binary_array(coords[:, i]) for i, axis in enumerate("xyz"[:dims])}
    kind = "scatter3d" if dims == 3 else "scattergl" if webgl else "scatter"
    return {"type": kind, **axes, **kwargs}


def label_positions(highlight: Highlight) -> list[str]:
    """Each label on the side of its point away from the query, so labels around a word spread out
    instead of stacking above it; the query's own label sits on top."""
    offsets = highlight.coords[1:, :2] - highlight.coords[0, :2]
    sides = [("top" if dy >= 0 else "bottom") + (" right" if dx >= 0 else " left") for dx, dy in offsets]
    return ["top center", *sides]


def _neighbour_lines(highlight: Highlight) -> np.ndarray:
    """Segments query→neighbour separated by NaN breaks, one trace for all lines."""
    dims = highlight.coords.shape[1]
    gap = np.full(dims, np.nan, dtype=np.float32)
    points = []
    for end in highlight.coords[1:]:
        points += [highlight.coords[0], end, gap]
    return np.array(points, dtype=np.float32).reshape(-1, dims)


def zoom_ranges(highlight: Highlight, coords: np.ndarray) -> list[tuple[float, float]]:
    """Axis ranges centred on the query, wide enough for its typical neighbour: a far outlier
    stays off-screen (its line still points at it) rather than shrinking everything else."""
    centre = highlight.coords[0]
    distances = np.linalg.norm(highlight.coords[1:] - centre, axis=1)
    typical = 1.2 * float(np.median(distances)) if len(distances) else 0.0
    half = max(typical, 0.03 * float((coords.max(axis=0) - coords.min(axis=0)).max()))
    return [(float(c - half), float(c + half)) for c in centre]


def explorer_figure(words: list[str], coords: np.ndarray, colouring: Colouring, axis_titles: list[str],
                    highlight: Highlight | None = None, zoom: bool = False, revision: str = "",
                    height: int = PLOT_HEIGHT) -> PlainFigure:
    """The projected words, one trace per colour group (so the legend toggles groups), then the
    highlighted query and neighbours, lines from the query to each, and labels on the query and its
    LABELLED_NEIGHBOURS closest (zoomed in; the whole cloud labels only the query). Every point's word is in ``customdata`` (a click reads it back).
    ``zoom`` frames the neighbourhood, else the whole cloud; ``revision`` keeps the camera while it
    is unchanged."""
    dims = coords.shape[1]
    webgl = len(words) >= WEBGL_FROM
    groups = np.array(colouring.groups)
    word_array = np.array(words)
    faded = highlight is not None
    traces = []
    for name, colour in colouring.colours.items():
        members = np.flatnonzero(groups == name)
        traces.append(_scatter(
            dims, coords[members], webgl, mode="markers", name=name, customdata=word_array[members].tolist(),
            hovertemplate="%{customdata}<extra>" + name + "</extra>",
            marker={"size": 3 if dims == 3 else 6, "color": colour, "opacity": 0.35 if faded else 0.75},
        ))
    if highlight is not None:
        traces.append(_scatter(
            dims, _neighbour_lines(highlight), webgl, mode="lines", name="to neighbours", hoverinfo="skip",
            line={"color": NEIGHBOUR_COLOUR, "width": 2}, showlegend=False,
        ))
        count = len(highlight.neighbours)
        scores = [1.0, *(s for _, s in highlight.neighbours)]
        notes = ["placed (not projected)" if p else "projected" for p in highlight.placed]
        labelled = LABELLED_NEIGHBOURS if zoom else 0  # seen from afar, neighbours' labels would pile up
        labels = [w if i <= labelled else "" for i, w in enumerate(highlight.words)]
        # 3D labels are scene annotations, drawn as page text over the plot: a text trace in a 3D
        # scene has WebGL triangulate each word's glyphs, the slowest part of a lookup in a browser.
        text = {"mode": "markers"} if dims == 3 else {
            "mode": "markers+text", "text": labels, "textposition": label_positions(highlight),
            "textfont": {"size": [20, *[16] * count]}}
        traces.append(_scatter(
            dims, highlight.coords, webgl, name=f"“{highlight.query}” and neighbours",
            customdata=[[w, f"{s:.3f}", n] for w, s, n in zip(highlight.words, scores, notes, strict=True)],
            hovertemplate="<b>%{customdata[0]}</b><br>cosine %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
            marker={"size": [14, *[8] * count] if dims == 3 else [18, *[12] * count],
                    "color": [QUERY_COLOUR, *[NEIGHBOUR_COLOUR] * count],
                    "symbol": ["diamond" if p else "circle" for p in highlight.placed],
                    "line": {"color": "white", "width": 1}, "opacity": 1.0},
            **text,  # the theme's text colour: labels read on light and dark
        ))
    axes = {f"{axis}axis": {"title": {"text": title}, "showticklabels": False}
            for axis, title in zip("xyz", axis_titles, strict=False)}
    if zoom and highlight is not None:
        for axis, (low, high) in zip("xyz", zoom_ranges(highlight, coords), strict=False):
            axes[f"{axis}axis"]["range"] = [low, high]
    # The legend goes under the plot: above it, the toolbar (top right) covered its last entries.
    # (in 2D, below the x axis's title). The top margin leaves room for the query's label.
    layout = {"height": height, "margin": {"l": 0, "r": 0, "t": 30, "b": 0}, "uirevision": revision,
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.02 if dims == 3 else -0.1, "x": 0,
                         "itemsizing": "constant", "font": {"size": 14}},
              "hoverlabel": {"font": {"size": 16}}}
    if dims == 3:
        layout["scene"] = {**axes, "aspectmode": "cube"}
        if highlight is not None:
            layout["scene"]["annotations"] = [
                {"x": float(x), "y": float(y), "z": float(z), "text": html.escape(word), "showarrow": False,
                 "yshift": 14, "font": {"size": 20 if i == 0 else 16}}
                for i, (word, (x, y, z)) in enumerate(zip(labels, highlight.coords, strict=True)) if word]
    else:
        layout.update(axes)
    return PlainFigure(traces, layout)  # the tests check that Plotly validates it


def clicked_word(event: dict | None) -> str | None:
    """The word of the point a visitor clicked, from the plot's selection event (a dict with
    ``selection.points``, each with the point's ``customdata``), if any."""
    for point in ((event or {}).get("selection") or {}).get("points") or []:
        data = point.get("customdata")
        word = data[0] if isinstance(data, list | tuple) and data else data
        if isinstance(word, str) and word:
            return word
    return None


def analogy_figure(emb: Embeddings, a: str, b: str, c: str, answers: list[tuple[str, float]]) -> PlainFigure:
    """The analogy as a parallelogram, in the 2D plane (PCA) that best fits just these words:
    arrows b → a and c → (c + a − b); the answers are the words nearest to that target point.
    A linear projection keeps vector arithmetic, which a t-SNE layout does not."""
    from app.projection import pca

    words = [a, b, c, *(w for w, _ in answers)]
    vectors = emb.unit[[emb.index[w] for w in words]]
    target = emb.unit[emb.index[c]] + emb.unit[emb.index[a]] - emb.unit[emb.index[b]]
    target /= max(float(np.linalg.norm(target)), 1e-8)  # 3CosAdd compares directions
    coords, _components, _mean, variance = pca(np.vstack([vectors, target]), 2)
    point = {w: coords[i] for i, w in enumerate(words)}
    goal = coords[-1]
    roles = ["a", "b", "c", *(f"answer {i}" for i in range(1, len(answers) + 1))]
    colours = ["#1f77b4", "#1f77b4", QUERY_COLOUR, *[NEIGHBOUR_COLOUR] * len(answers)]
    # SVG scatter: a handful of points, and no WebGL context taken from the page's big cloud
    traces = [{"type": "scatter", "x": binary_array(coords[:-1, 0]), "y": binary_array(coords[:-1, 1]),
               "mode": "markers+text",
               "text": words, "textposition": "top center", "textfont": {"size": 17}, "customdata": roles,
               "hovertemplate": "<b>%{text}</b> (%{customdata})<extra></extra>", "showlegend": False,
               "marker": {"size": 12, "color": colours}},
              {"type": "scatter", "x": [float(goal[0])], "y": [float(goal[1])], "mode": "markers+text",
               "text": ["target"], "textposition": "bottom center", "showlegend": False,
               "hovertemplate": f"{c} + {a} − {b}<extra></extra>",
               "marker": {"size": 14, "symbol": "x", "color": QUERY_COLOUR}}]
    arrows = [(point[b], point[a], "#1f77b4"), (point[c], goal, QUERY_COLOUR)]
    annotations = [{"x": float(end[0]), "y": float(end[1]), "ax": float(start[0]), "ay": float(start[1]),
                    "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 3,
                    "arrowwidth": 2, "arrowcolor": colour, "text": ""} for start, end, colour in arrows]
    layout = {"height": 420, "margin": {"l": 30, "r": 30, "t": 30, "b": 0}, "annotations": annotations,
              "xaxis": {"title": {"text": f"PC1 ({variance[0]:.0%})"}, "showticklabels": False},
              "yaxis": {"title": {"text": f"PC2 ({variance[1]:.0%})"}, "showticklabels": False,
                        "scaleanchor": "x"}}
    return PlainFigure(traces, layout)


