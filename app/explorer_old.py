"""The embedding explorer's logic: reading what people type, placing words in the precomputed
layouts, colouring them, the figures, and the view that lives in the page's URL.

Nothing here imports Streamlit; ``app/ui_explorer.py`` caches the heavy pieces and
``pages/embeddings.py`` lays out the widgets. Words come in as free text, so every reader below
turns any input (empty, several words, punctuation, emoji, 10 kB of text) into either words the
model knows or a message that says what was ignored and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import plotly.graph_objects as go

from app.corpus import tokenize
from app.embeddings import Embeddings
from app.lexicon import FASHION_CATEGORIES, OTHER, category_of

PROJECTIONS = {"tsne3": "t-SNE 3D", "tsne2": "t-SNE 2D", "pca3": "PCA 3D", "pca2": "PCA 2D"}
COLOURINGS = {"category": "fashion category", "kmeans": "k-means cluster"}
NEIGHBOURS_RANGE = (1, 30)
CLUSTERS_RANGE = (2, 30)
MAX_QUERY_CHARS = 100  # a search box holds a word; past this we say so and read the first word
MAX_LIST_WORDS = 12  # odd-one-out reads this many words; suggestions cost a fuzzy search each
PLACEMENT_NEIGHBOURS = 10  # a t-SNE newcomer sits at the weighted mean of this many projected words
PLOT_HEIGHT = 560  # fits a phone screen in portrait with the controls above it

CATEGORY_COLOURS = {
    "garments": "#d62728", "fabrics": "#8c564b", "colours": "#e377c2", "fit and sizes": "#1f77b4",
    "body": "#ff7f0e", "details": "#17becf", "occasions": "#2ca02c", "designers and brands": "#9467bd",
    "footwear and accessories": "#bcbd22", OTHER: "#c7c7c7",
}
CLUSTER_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
                   "#e6550d", "#31a354", "#756bb1", "#636363", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8",
                   "#969696", "#9c9ede", "#cedb9c", "#e7ba52", "#e7969c", "#de9ed6"]
QUERY_COLOUR, NEIGHBOUR_COLOUR = "#ff1f5a", "#ff9f1c"  # read on light and dark themes alike
DEFAULT_WORDS = {"glove": "manolo", "wiki-sample": "king"}  # by bundle; "dress" elsewhere
DEFAULT_ANALOGIES = (("king", "man", "woman"), ("dress", "woman", "man"))  # the first the model knows
DEFAULT_ODD_ONE_OUT = ("dress skirt blouse silk", "france germany italy london")
DEFAULT_PAIRS = (("silk", "satin"), ("king", "queen"))


# ---------------------------------------------------------------- reading what people type

HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")  # so "<b>sillk</b>" is read as "sillk", not as "b"

@dataclass
class Notice:
    """A message for the page: ``level`` is "info" (a hint) or "warning" (we dropped something)."""

    level: str
    text: str


@dataclass
class WordQuery:
    """The one word a search box asks about, or None with notices that say why."""

    word: str | None
    notices: list[Notice] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # close spellings of an unknown word
    token: str | None = None  # the word read, known or not (another model may know it)


def read_query(text: str, emb: Embeddings) -> WordQuery:
    """One known word out of whatever was typed. Lower-cases, drops punctuation and emoji,
    keeps the first of several words, and suggests close spellings for an unknown one."""
    text = text or ""
    if not text.strip():
        return WordQuery(None, [Notice("info", "Type a word to see its nearest neighbours.")])
    notices = []
    if len(text) > MAX_QUERY_CHARS:
        notices.append(Notice("warning", f"That is {len(text):,} characters: the search box takes one word, "
                                         "so only the first word is looked up."))
        text = text[:MAX_QUERY_CHARS]
    if HTML_TAG.search(text):
        notices.append(Notice("info", "HTML tags are left out of the search (and never run)."))
        text = HTML_TAG.sub(" ", text)
    tokens = tokenize(text)
    if not tokens:
        notices.append(Notice("warning", "No word there: punctuation, emoji and symbols are not in the "
                                         "vocabulary. Type letters, e.g. “dress”."))
        return WordQuery(None, notices)
    word = tokens[0]
    if len(tokens) > 1 and len(text) <= MAX_QUERY_CHARS:
        ignored = ", ".join(tokens[1:6]) + (" …" if len(tokens) > 6 else "")
        notices.append(Notice("info", f"One word at a time: looking up “{word}” and ignoring {ignored}. "
                                      "For word arithmetic use the Analogy tab."))
    if word not in emb:
        suggestions = emb.suggest(word)
        notices.append(Notice("warning", unknown_word_message(emb, word, suggestions)))
        return WordQuery(None, notices, suggestions, token=word)
    return WordQuery(word, notices, token=word)


def unknown_word_message(emb: Embeddings, word: str, suggestions: list[str]) -> str:
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else " No close spelling either."
    return f"“{word}” is not in the {emb.name} vocabulary ({len(emb):,} words).{hint}"


def markdown_safe(text: str) -> str:
    """Text shown literally by Streamlit's markdown: ``*``, ``$`` (LaTeX), backticks and the like escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


@dataclass
class WordList:
    """Known words read from free text, in order and unique, and the rest with the reason."""

    words: list[str]
    ignored: dict[str, str] = field(default_factory=dict)


def read_word_list(text: str, emb: Embeddings, limit: int = MAX_LIST_WORDS) -> WordList:
    """Words separated by spaces or commas. Unknown, repeated, non-word and surplus pieces are
    set aside with why (unknown ones with close spellings)."""
    words, ignored = [], {}
    suggestions_left = 3  # each is a fuzzy search over the vocabulary (~0.1 s on GloVe's 400k words)
    pieces = [p for p in re.split(r"[\s,;]+", HTML_TAG.sub(" ", text or "").strip()) if p]
    for position, piece in enumerate(pieces):
        if position >= limit:
            ignored[f"{len(pieces) - limit:,} more"] = f"only the first {limit} words are read"
            break
        tokens = tokenize(piece)
        if not tokens:
            ignored[piece[:20]] = "not a word (no letters or digits)"
        for token in tokens:
            if token in words:
                ignored[token] = "repeated"
            elif token not in emb:
                close = emb.suggest(token) if suggestions_left > 0 else []
                suggestions_left -= 1
                ignored[token] = "not in the vocabulary" + (f" (did you mean {', '.join(close)}?)" if close else "")
            else:
                words.append(token)
    return WordList(words, ignored)


# ---------------------------------------------------------------- analogy, odd one out, similarity

@dataclass
class Outcome:
    """What a tool computed (``rows``: word, score), what it left out and why, or the ``problem``
    that stopped it."""

    rows: list[tuple[str, float]] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    answer: str | None = None  # the one-line verdict (the odd word, the similarity)
    inputs: list[str] = field(default_factory=list)  # the words it used


def _single_word(text: str, emb: Embeddings, role: str) -> tuple[str | None, dict[str, str]]:
    found = read_word_list(text, emb, limit=3)
    extra = {w: f"{role} takes one word; the first was used" for w in found.words[1:]}
    return (found.words[0] if found.words else None), {**found.ignored, **extra}


def analogy(emb: Embeddings, a: str, b: str, c: str, topn: int = 5) -> Outcome:
    """a − b + c, e.g. king − man + woman. The three inputs are never answers (3CosAdd)."""
    chosen, ignored = [], {}
    for role, text in (("a", a), ("b", b), ("c", c)):
        word, dropped = _single_word(text, emb, role)
        ignored.update(dropped)
        chosen.append(word)
    if None in chosen:
        missing = [role for role, word in zip("abc", chosen, strict=True) if word is None]
        return Outcome(ignored=ignored, problem=f"Need a known word in {', '.join(missing)}.")
    rows = emb.analogy(*chosen, topn=topn)
    ignored.update({w: "an input, so left out of the answers" for w in dict.fromkeys(chosen)})
    return Outcome(rows, ignored, answer=f"{chosen[0]} − {chosen[1]} + {chosen[2]} ≈ {rows[0][0]}", inputs=chosen)


def odd_one_out(emb: Embeddings, text: str) -> Outcome:
    """The word least like the mean of the others, with every word's similarity to that mean."""
    found = read_word_list(text, emb)
    if len(found.words) < 3:
        return Outcome(ignored=found.ignored, problem=f"Need at least three known words; got {len(found.words)}.")
    odd, scores = emb.doesnt_match(found.words)
    rows = sorted(scores.items(), key=lambda item: -item[1])
    return Outcome(rows, found.ignored, answer=f"“{odd}” doesn't belong")


def similarity(emb: Embeddings, a: str, b: str) -> Outcome:
    """Cosine similarity of two words, and where b ranks among a's neighbours."""
    first, ignored = _single_word(a, emb, "the first box")
    second, dropped = _single_word(b, emb, "the second box")
    ignored.update(dropped)
    if first is None or second is None:
        return Outcome(ignored=ignored, problem="Need one known word in each box.")
    score = emb.similarity(first, second)
    rank = int(np.count_nonzero(emb.unit @ emb.unit[emb.index[first]] > score)) if first != second else 0
    return Outcome([(second, score)], ignored,
                   answer=f"cos({first}, {second}) = {score:.3f}: “{second}” is {first}'s neighbour #{rank:,}"
                   if rank else f"cos({first}, {second}) = {score:.3f}")


# ---------------------------------------------------------------- compare two models

@dataclass
class Comparison:
    """One word's neighbours in two models; ``shared`` are in both lists."""

    first: list[tuple[str, float]] | None  # None: the word is unknown to that model
    second: list[tuple[str, float]] | None
    shared: set[str]


def compare_neighbours(first: Embeddings, second: Embeddings, word: str, topn: int) -> Comparison:
    lists = [emb.most_similar(word, topn) if word in emb else None for emb in (first, second)]
    if None in lists:
        return Comparison(*lists, shared=set())
    shared = {w for w, _ in lists[0]} & {w for w, _ in lists[1]}
    return Comparison(*lists, shared=shared)


def comparison_rows(neighbours: list[tuple[str, float]], shared: set[str]) -> list[dict]:
    """One model's neighbour rows, each marked if the other model lists it too."""
    return [{**row, "in both": row["word"] in shared} for row in neighbour_rows(neighbours)]


def default_comparison(model_key: str, keys: list[str]) -> str:
    """Skip-gram against CBOW of the same corpus; GloVe against the first trained model."""
    swaps = {"skipgram": "cbow", "cbow": "skipgram"}
    bundle, _, arch = model_key.rpartition("/")
    partner = f"{bundle}/{swaps.get(arch, '')}"
    if partner in keys:
        return partner
    others = [k for k in keys if k != model_key]
    return others[0] if others else model_key


# ---------------------------------------------------------------- the precomputed layouts

@dataclass
class ProjectedSpace:
    """A model's projected words, their unit vectors and stored coordinates (t-SNE, PCA)."""

    words: list[str]
    vectors: np.ndarray  # unit vectors of ``words``, the ones t-SNE and PCA saw
    arrays: dict[str, np.ndarray]  # as stored: tsne2, tsne3, pca3, pca_components, pca_mean, pca_variance

    def __post_init__(self):
        self.position = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, emb: Embeddings, arrays: Mapping[str, np.ndarray]) -> ProjectedSpace:
        words = arrays["words"].tolist()
        keep = np.array([w in emb for w in words])
        words = [w for w, k in zip(words, keep, strict=True) if k]
        stored = {name: (a[keep] if name in ("tsne2", "tsne3", "pca3") else a) for name, a in arrays.items()
                  if name != "words"}
        return cls(words, emb.unit[[emb.index[w] for w in words]], stored)

    def coordinates(self, projection: str) -> np.ndarray:
        return self.arrays["pca3"][:, :2] if projection == "pca2" else self.arrays[projection]

    def axis_titles(self, projection: str) -> list[str]:
        dims = 2 if projection.endswith("2") else 3
        if projection.startswith("pca"):
            return [f"PC{i + 1} ({v:.1%} of variance)" for i, v in enumerate(self.arrays["pca_variance"][:dims])]
        return [f"t-SNE {i + 1}" for i in range(dims)]

    def place(self, vectors: np.ndarray, projection: str) -> np.ndarray:
        """Coordinates for unit vectors that were not projected. PCA is a linear map, so it
        projects them exactly; t-SNE has no such map, so each goes to the similarity-weighted
        mean position of its PLACEMENT_NEIGHBOURS nearest projected words."""
        dims = 2 if projection.endswith("2") else 3
        if projection.startswith("pca"):
            return ((vectors - self.arrays["pca_mean"]) @ self.arrays["pca_components"].T)[:, :dims]
        scores = vectors @ self.vectors.T
        k = min(PLACEMENT_NEIGHBOURS, len(self.words))
        nearest = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        weights = np.maximum(np.take_along_axis(scores, nearest, axis=1), 1e-6)
        coords = self.coordinates(projection)[nearest]  # (words, k, dims)
        return (weights[:, :, None] * coords).sum(axis=1) / weights.sum(axis=1, keepdims=True)

    def positions(self, words: list[str], emb: Embeddings, projection: str) -> tuple[np.ndarray, list[bool]]:
        """Coordinates of any known words: stored ones as stored, the others placed."""
        stored = self.coordinates(projection)
        placed = [w not in self.position for w in words]
        coords = np.zeros((len(words), stored.shape[1]), dtype=np.float32)
        for i, word in enumerate(words):
            if not placed[i]:
                coords[i] = stored[self.position[word]]
        if any(placed):
            outside = [i for i, p in enumerate(placed) if p]
            coords[outside] = self.place(emb.unit[[emb.index[words[i]] for i in outside]], projection)
        return coords, placed


def placement_note(projection: str) -> str:
    if projection.startswith("pca"):
        return "PCA is a linear map, so a word outside the projected set is projected exactly."
    return (f"t-SNE has no map for new points: a word outside the projected set sits at the similarity-weighted "
            f"mean position of its {PLACEMENT_NEIGHBOURS} nearest projected words.")


# ---------------------------------------------------------------- colouring

@dataclass
class Colouring:
    """A group name for every projected word, and each group's colour (legend order)."""

    groups: list[str]
    colours: dict[str, str]


def colour_by_category(words: list[str]) -> Colouring:
    groups = [category_of(w) for w in words]
    present = set(groups)
    order = [name for name in [*FASHION_CATEGORIES, OTHER] if name in present]
    return Colouring(groups, {name: CATEGORY_COLOURS[name] for name in order})


def colour_by_kmeans(words: list[str], vectors: np.ndarray, k: int, seed: int = 0) -> Colouring:
    """k-means on the original unit vectors (not on the layout); each cluster is named after the
    three words closest to its centre."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    k = max(1, min(k, len(words)))
    with threadpool_limits(1):  # BLAS threads fighting over two shared cores made it 20× slower
        model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(vectors)
    names = []
    for cluster, centre in enumerate(model.cluster_centers_):
        members = np.flatnonzero(model.labels_ == cluster)
        closest = members[np.argsort(-(vectors[members] @ centre))[:3]]
        names.append(f"{cluster + 1}: {', '.join(words[i] for i in closest)}")
    groups = [names[label] for label in model.labels_]
    return Colouring(groups, {name: CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)] for i, name in enumerate(names)})


# ---------------------------------------------------------------- figures

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


def _scatter(dims: int, coords: np.ndarray, **kwargs) -> dict:
    """A WebGL scatter trace as a plain dict: Scatter3d in 3D, Scattergl in 2D."""
    if dims == 3:
        return {"type": "scatter3d", "x": coords[:, 0], "y": coords[:, 1], "z": coords[:, 2], **kwargs}
    return {"type": "scattergl", "x": coords[:, 0], "y": coords[:, 1], **kwargs}


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
                    highlight: Highlight | None = None, zoom: bool = False, revision: str = "") -> go.Figure:
    """The projected words, one trace per colour group (so the legend toggles groups), then the
    highlighted query and neighbours with labels and lines from the query to each neighbour.
    3D uses WebGL Scatter3d, 2D Scattergl. ``revision`` keeps the camera while it is unchanged."""
    dims = coords.shape[1]
    groups = np.array(colouring.groups)
    word_array = np.array(words)  # a fixed-width str array: Plotly deep-copies it at memcpy speed
    faded = highlight is not None
    traces = []
    for name, colour in colouring.colours.items():
        members = np.flatnonzero(groups == name)
        traces.append(_scatter(
            dims, coords[members], mode="markers", name=name, text=word_array[members],
            hovertemplate="%{text}<extra>" + name + "</extra>",
            marker={"size": 3 if dims == 3 else 5, "color": colour, "opacity": 0.35 if faded else 0.75},
        ))
    if highlight is not None:
        traces.append(_scatter(
            dims, _neighbour_lines(highlight), mode="lines", name="to neighbours", hoverinfo="skip",
            line={"color": NEIGHBOUR_COLOUR, "width": 2}, showlegend=False,
        ))
        count = len(highlight.neighbours)
        scores = [1.0, *(s for _, s in highlight.neighbours)]
        notes = ["placed (not projected)" if p else "projected" for p in highlight.placed]
        traces.append(_scatter(
            dims, highlight.coords, mode="markers+text", name=f"“{highlight.query}” and neighbours",
            text=highlight.words, textposition="top center",
            customdata=[[f"{s:.3f}", n] for s, n in zip(scores, notes, strict=True)],
            hovertemplate="<b>%{text}</b><br>cosine %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            textfont={"size": 15},  # the theme's text colour, so labels read on light and dark
            marker={"size": [14, *[8] * count] if dims == 3 else [16, *[11] * count],
                    "color": [QUERY_COLOUR, *[NEIGHBOUR_COLOUR] * count],
                    "symbol": ["diamond" if p else "circle" for p in highlight.placed],
                    "line": {"color": "white", "width": 1}, "opacity": 1.0},
        ))
    axes = {f"{axis}axis": {"title": {"text": title}, "showticklabels": False}
            for axis, title in zip("xyz", axis_titles, strict=False)}
    if zoom and highlight is not None:
        for axis, (low, high) in zip("xyz", zoom_ranges(highlight, coords), strict=False):
            axes[f"{axis}axis"]["range"] = [low, high]
    layout = {"height": PLOT_HEIGHT, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "uirevision": revision,
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "itemsizing": "constant"},
              "hoverlabel": {"font": {"size": 14}}}
    if dims == 3:
        layout["scene"] = {**axes, "aspectmode": "cube"}
    else:
        layout.update(axes)
    # Plotly's property validation costs ~5× the rest of a rerun for 4,000 points; these
    # traces are fixed by this function (the tests check that they validate), so skip it here.
    return go.Figure(data=traces, layout=layout, _validate=False)


def analogy_figure(emb: Embeddings, a: str, b: str, c: str, answers: list[tuple[str, float]]) -> go.Figure:
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
    traces = [{"type": "scattergl", "x": coords[:-1, 0], "y": coords[:-1, 1], "mode": "markers+text",
               "text": words, "textposition": "top center", "textfont": {"size": 15}, "customdata": roles,
               "hovertemplate": "<b>%{text}</b> (%{customdata})<extra></extra>", "showlegend": False,
               "marker": {"size": 12, "color": colours}},
              {"type": "scattergl", "x": [goal[0]], "y": [goal[1]], "mode": "markers+text",
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
    return go.Figure(data=traces, layout=layout, _validate=False)  # fixed traces: see explorer_figure


def neighbour_rows(neighbours: list[tuple[str, float]], placed: list[bool] | None = None) -> list[dict]:
    """The table under the plot: rank, word, cosine (shown as a bar), fashion category, placement."""
    rows = []
    for rank, (word, score) in enumerate(neighbours, start=1):
        row = {"#": rank, "word": word, "similarity": round(score, 4), "category": category_of(word)}
        if placed is not None:
            row["in the plot"] = "placed" if placed[rank - 1] else "projected"
        rows.append(row)
    return rows


# ---------------------------------------------------------------- re-projection

@dataclass(frozen=True)
class Reprojection:
    """A fresh t-SNE of one word's neighbourhood; frozen so it can key a cache."""

    model: str
    word: str
    words: int = 500
    dimensions: int = 3
    perplexity: float = 30.0
    iterations: int = 500
    seed: int = 1


def first_known(choices: tuple, emb: Embeddings):
    """The first example whose words the model knows (the tools' starting values), else the first."""
    for choice in choices:
        words = choice.split() if isinstance(choice, str) else choice
        if all(w in emb for w in words):
            return choice
    return choices[0]


def neighbourhood(emb: Embeddings, word: str, size: int) -> list[str]:
    """The word and its size − 1 nearest neighbours."""
    return [word, *(w for w, _ in emb.most_similar(word, max(1, size - 1)))]


def reproject(emb: Embeddings, params: Reprojection,
              progress: Callable[[float], None] | None = None) -> tuple[list[str], np.ndarray]:
    """openTSNE on the neighbourhood (Barnes-Hut, one thread), reporting progress in [0, 1]."""
    from app.projection import tsne

    words = neighbourhood(emb, params.word, params.words)
    early_iterations = 250  # openTSNE's early-exaggeration phase runs before ``n_iter``
    total_reports = (early_iterations + params.iterations) / 50
    reports = 0

    def report(iteration, error, embedding):
        nonlocal reports
        reports += 1
        if progress is not None:
            progress(min(1.0, reports / total_reports))
        return False

    coords = tsne(emb.unit[[emb.index[w] for w in words]], params.dimensions, params.seed,
                  params.perplexity, params.iterations, callback=report)
    return words, coords


# ---------------------------------------------------------------- the view in the URL

@dataclass(frozen=True)
class ExplorerView:
    """Everything a shared link restores. Field names are the URL's parameter names."""

    model: str
    projection: str = "tsne3"
    word: str = ""
    k: int = 10
    colour: str = "category"
    clusters: int = 12
    compare: str = ""


def default_view(model_keys: list[str]) -> ExplorerView:
    model = "fashion-reviews/skipgram" if "fashion-reviews/skipgram" in model_keys else model_keys[0]
    return ExplorerView(model=model, word=default_word(model), compare=default_comparison(model, model_keys))


def default_word(model_key: str) -> str:
    return DEFAULT_WORDS.get(model_key.split("/")[0], "dress")


def starting_word(emb: Embeddings, preferred: str) -> str:
    """The preferred opening word, or the model's most frequent word if it does not know it."""
    if preferred in emb:
        return preferred
    frequent = emb.most_frequent(1)
    return frequent[0] if frequent else preferred


def _bounded_int(value: str, low: int, high: int) -> int | None:
    value = value.strip()
    if not value.isdigit() or len(value) > 4:  # isdigit() is True for '²' too, hence int() below
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def view_from_query(params: Mapping[str, str], model_keys: list[str]) -> tuple[ExplorerView, list[str]]:
    """Read a link's parameters; anything unknown or out of range falls back to its default
    with a notice. Never raises, whatever the link holds."""
    view = default_view(model_keys)
    notices = []

    def shown(value: str) -> str:
        return repr(value[:40] + ("…" if len(value) > 40 else ""))

    model = str(params.get("model", view.model))
    if model not in model_keys:
        notices.append(f"The link's model {shown(model)} is not one this app serves; showing {view.model}.")
        model = view.model
    elif model != view.model:
        view = replace(view, model=model, word=default_word(model), compare=default_comparison(model, model_keys))
    values = {"model": model}
    if "word" in params:
        word = str(params["word"])
        if len(word) > MAX_QUERY_CHARS:
            notices.append(f"The link's word was {len(word):,} characters long; it was cut to {MAX_QUERY_CHARS}.")
            word = word[:MAX_QUERY_CHARS]
        values["word"] = word
    choices = {"projection": PROJECTIONS, "colour": COLOURINGS, "compare": model_keys}
    for name, allowed in choices.items():
        if name in params:
            value = str(params[name])
            if value in allowed:
                values[name] = value
            else:
                notices.append(f"The link's {name} {shown(value)} is not one of {', '.join(allowed)}; "
                               f"using {getattr(view, name)}.")
    for name, (low, high) in (("k", NEIGHBOURS_RANGE), ("clusters", CLUSTERS_RANGE)):
        if name in params:
            number = _bounded_int(str(params[name]), low, high)
            if number is None:
                notices.append(f"The link's {name} {shown(str(params[name]))} is not a whole number from {low} to "
                               f"{high}; using {getattr(view, name)}.")
            else:
                values[name] = number
    return replace(view, **values), notices


def view_to_query(view: ExplorerView) -> dict[str, str]:
    """The parameters of a link to this view (model, projection and word always; the rest
    only where they differ from the defaults, to keep links short)."""
    defaults = ExplorerView(model=view.model)
    always = {"model", "projection", "word"}
    return {f.name: str(getattr(view, f.name)) for f in fields(view)
            if f.name in always or getattr(view, f.name) != getattr(defaults, f.name)}
