"""Inside the character LSTM: what the "LSTM gates, live" page computes.

The gates page traces a text through the model (every input, forget and output gate, candidate,
cell and hidden state, per character: what ``gate_trace.trace_gates`` gives, computed faster by
``fast_trace_gates`` so typing stays live), picks which units to show, and
builds the figures: units × characters heatmaps, Karpathy's text coloured by one cell with the
model's next-character guesses, gate saturation scatters (Karpathy, Johnson & Fei-Fei 2015),
the equations with one unit's numbers, and LSTMVis-style "find cells" for a selected span.
The LM playground's helpers are in ``app/lessons/playground.py``.

No Streamlit here: the pages call these functions, the tests call them directly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from app.lessons.highlight import Piece, diverging_colour
from app.lm.char_lstm import DOCUMENT_BREAK, CharLSTM, LanguageModel
from app.lm.gate_trace import GATES

MAX_CHARS = 1_000  # longest text traced: keeps a keystroke's work bounded for every visitor
SIGMOID_GATES = ("input", "forget", "output")  # values in (0, 1); the others live in (-1, 1) or beyond
SYMBOLS = {"input": "i", "forget": "f", "output": "o", "candidate": "c̃", "cell": "c", "hidden": "h"}
NAMES = {"input": "input gate", "forget": "forget gate", "output": "output gate",
         "candidate": "candidate (new memory)", "cell": "cell state", "hidden": "hidden state"}
UNIT_CHOICES = ("most variable", "most active", "by index")
VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "↵"}  # whitespace made visible in labels
SATURATION_LOW, SATURATION_HIGH = 0.1, 0.9
INITIAL_WINDOW = 120  # characters in view when a heatmap opens; pan or zoom out for the rest
GUESS_WINDOW = 40  # the guess strip prints a character in every cell: fewer columns fit
PHONE_WINDOW = 16  # characters in view on a 390-pixel phone, heatmaps and guess strip alike


# ---------------------------------------------------------------- the text

@dataclass(frozen=True)
class LimitedText:
    text: str  # what gets traced
    original_length: int

    @property
    def truncated(self) -> bool:
        return len(self.text) < self.original_length


def limit_text(text: str | None, max_chars: int = MAX_CHARS) -> LimitedText:
    text = text or ""
    return LimitedText(text[:max_chars], len(text))


def truncation_notice(limited: LimitedText) -> str | None:
    if not limited.truncated:
        return None
    return (f"Your text has {limited.original_length:,} characters: only the first "
            f"{len(limited.text):,} are traced.")


def unknown_characters(lm: LanguageModel, text: str) -> list[str]:
    """Distinct characters of text the model never saw (it reads each as the unknown id)."""
    return sorted({c for c in text if c not in lm.vocab.index})


def markdown_literal(text: str) -> str:
    """User text made safe inside a Streamlit message (markdown): every special character escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])", r"\\\1", text)


def char_label(char: str) -> str:
    """A character as a figure label: whitespace visible, <, > and & escaped (Plotly renders tags).

    Quotes stay as they are: Plotly shows text, not attributes, and prints "&#x27;" literally.
    """
    return html.escape(VISIBLE.get(char, char), quote=False)


def position_label(text: str, position: int) -> str:
    """"12: a" for a slider over character positions (whitespace made visible)."""
    return f"{position}: {VISIBLE.get(text[position], text[position])}"


# ---------------------------------------------------------------- tracing

@dataclass
class GateTrace:
    """Every gate and state of every layer, one row per character of text."""

    text: str
    layers: list[dict[str, np.ndarray]]  # per layer: gate name -> (len(text), hidden)
    start_cells: list[np.ndarray]  # per layer: c after the document break, the c_{t-1} of character 0

    @property
    def hidden_size(self) -> int:
        return self.layers[0]["hidden"].shape[1]


def trace_text(lm: LanguageModel, text: str) -> GateTrace:
    """Trace text as the model reads it at the start of a document (as generate and score do)."""
    layers = fast_trace_gates(lm.model, lm.vocab.encode(DOCUMENT_BREAK + text))
    # drop the document-break step: row t is the state after reading text[t]
    return GateTrace(text, [{name: values[1:] for name, values in layer.items()} for layer in layers],
                     [layer["cell"][0] for layer in layers])


@torch.no_grad()
def fast_trace_gates(model: CharLSTM, ids: list[int]) -> list[dict[str, np.ndarray]]:
    """What gate_trace.trace_gates returns (the tests check it), several times faster, for live typing.

    trace_gates spells the equations out one character at a time: clear, but a dozen small
    PyTorch calls per character and layer. Here PyTorch's own LSTM kernel runs the recurrence
    and gives every h_t; since the gates at step t depend only on x_t and h_{t-1}, they are then
    all recomputed at once with two matrix products, and c by its cheap linear recurrence.
    """
    lstm, H = model.lstm, model.lstm.hidden_size
    x = model.embed(torch.tensor(ids, dtype=torch.long))  # (time, embedding): the input of layer 0
    zero = torch.zeros(1, H)
    zero_state = torch.zeros(1, 1, H)  # (layers, batch, hidden)
    layers = []
    for layer in range(lstm.num_layers):
        weights = [getattr(lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        # one layer through the kernel nn.LSTM itself calls: (input, (h0, c0), weights, has_biases,
        # num_layers, dropout, train, bidirectional, batch_first)
        hidden, _, _ = torch.lstm(x[:, None], (zero_state, zero_state), weights, True, 1, 0.0, False, False, False)
        hidden = hidden[:, 0]  # (time, hidden): a batch of one
        previous_hidden = torch.cat([zero, hidden[:-1]])
        W_ih, W_hh, b_ih, b_hh = weights
        pre = x @ W_ih.T + previous_hidden @ W_hh.T + b_ih + b_hh  # blocks in PyTorch's order i, f, g, o
        i, f, o = torch.sigmoid(pre[:, :H]), torch.sigmoid(pre[:, H:2 * H]), torch.sigmoid(pre[:, 3 * H:])
        c_tilde = torch.tanh(pre[:, 2 * H:3 * H])
        cell = (i * c_tilde).numpy()  # c_t = f_t c_{t-1} + i_t c̃_t, with c_{-1} = 0
        forget = f.numpy()
        for t in range(1, len(ids)):
            cell[t] += forget[t] * cell[t - 1]
        layers.append({"input": i.numpy(), "forget": forget, "output": o.numpy(), "candidate": c_tilde.numpy(),
                       "cell": cell, "hidden": hidden.numpy()})
        x = hidden  # the next layer reads this layer's hidden states
    return layers


@torch.no_grad()
def guesses_from_trace(lm: LanguageModel, trace: GateTrace, k: int = 5) -> list[list[tuple[str, float]]]:
    """lm.next_char_guesses(trace.text, k), read off the traced top-layer hidden states.

    The head reads the last layer's h_t, which the trace already holds: no second LSTM pass per
    keystroke (the tests check both ways agree).
    """
    return lm.top_characters(lm.model.head(torch.from_numpy(trace.layers[-1]["hidden"])), k)


# ---------------------------------------------------------------- which units

def select_units(values: np.ndarray, how: str, count: int, indices: Iterable[int] = ()) -> list[int]:
    """Units (columns of values, shape (time, hidden)) to show.

    most variable: largest standard deviation over the text (units that react to it);
    most active: largest mean |value| (units that are strongly on or off throughout);
    by index: the given indices, in range, without repeats.
    """
    if how == "by index":
        return list(dict.fromkeys(i for i in indices if 0 <= i < values.shape[1]))
    if how == "most variable":
        strength = values.std(axis=0) if len(values) else np.zeros(values.shape[1])
    elif how == "most active":
        strength = np.abs(values).mean(axis=0) if len(values) else np.zeros(values.shape[1])
    else:
        raise ValueError(f"unit choice must be one of {UNIT_CHOICES}, not {how!r}")
    return [int(i) for i in np.argsort(-strength, kind="stable")[:count]]


def parse_unit_indices(spec: str, hidden_size: int) -> tuple[list[int], list[str]]:
    """"3, 17, 120-125" -> ([3, 17, 120, ..., 125], []); pieces that are not units come back second."""
    units, rejected = [], []
    for piece in re.split(r"[,\s]+", spec.strip()):
        if not piece:
            continue
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", piece)
        if not match:
            rejected.append(piece)
            continue
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        if last < first or last >= hidden_size:
            rejected.append(piece)
            continue
        units.extend(range(first, last + 1))
    return list(dict.fromkeys(units)), rejected


def choose_units(layer: dict[str, np.ndarray], how: str, count: int, ranked_by: str = "hidden",
                 spec: str = "") -> tuple[list[int], list[str]]:
    """The page's unit choice: ranked by one gate or state of the layer, or typed indices.

    Returns the units and the pieces of spec that are not units of this layer (to tell the user).
    """
    if how == "by index":
        indices, rejected = parse_unit_indices(spec, layer["hidden"].shape[1])
        return select_units(layer["hidden"], how, 0, indices), rejected
    return select_units(layer[ranked_by], how, count), []


# ---------------------------------------------------------------- gate saturation

def saturation(layer: dict[str, np.ndarray], low: float = SATURATION_LOW,
               high: float = SATURATION_HIGH) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per sigmoid gate: for each unit, the fraction of characters where it is < low and > high.

    Karpathy et al. (2015): forget gates that are right-saturated on most steps are the units that
    remember for a long time; gates that never saturate are doing fine-grained, per-step work.
    """
    return {gate: ((layer[gate] < low).mean(axis=0), (layer[gate] > high).mean(axis=0))
            for gate in SIGMOID_GATES}


def saturation_figure(layer: dict[str, np.ndarray]) -> dict:
    """Three scatters side by side (input, forget, output gate), one point per unit."""
    fractions = saturation(layer)
    data, layout = [], {"height": 360, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "showlegend": False,
                        "annotations": []}
    for col, gate in enumerate(SIGMOID_GATES):
        x, y = ("x", "y") if col == 0 else (f"x{col + 1}", f"y{col + 1}")
        left, right = fractions[gate]
        data.append({"type": "scatter", "x": left, "y": right, "xaxis": x, "yaxis": y, "mode": "markers",
                     "marker": {"size": 6, "opacity": 0.6}, "customdata": np.arange(len(left)),
                     "hovertemplate": f"unit %{{customdata}}<br>{SYMBOLS[gate]} < {SATURATION_LOW}: %{{x:.0%}} "
                                      f"of characters<br>{SYMBOLS[gate]} > {SATURATION_HIGH}: %{{y:.0%}}<extra></extra>"})
        # the diagonal x + y = 1: units on it are saturated one way or the other at every character
        data.append({"type": "scatter", "x": [0, 1], "y": [1, 0], "xaxis": x, "yaxis": y, "mode": "lines",
                     "hoverinfo": "skip", "line": {"color": "#bbb", "dash": "dot", "width": 1}})
        domain = [col / 3 + 0.03, (col + 1) / 3 - 0.03]
        layout[x.replace("x", "xaxis")] = {"domain": domain, "range": [-0.02, 1.02], "anchor": y,
                                           "title": {"text": f"fraction < {SATURATION_LOW}"}}
        layout[y.replace("y", "yaxis")] = {"range": [-0.02, 1.02], "anchor": x, "matches": "y" if col else None,
                                           "showticklabels": col == 0,
                                           "title": {"text": f"fraction > {SATURATION_HIGH}" if col == 0 else ""}}
        layout["annotations"].append(axis_title(NAMES[gate], x=domain[0], y=1.0))
    return {"data": data, "layout": layout}


def axis_title(text: str, x: float, y: float) -> dict:
    """A subplot title: a paper-anchored annotation just above (x, y)."""
    return {"text": f"<b>{text}</b>", "x": x, "y": y, "xref": "paper", "yref": "paper", "xanchor": "left",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 13}}


# ---------------------------------------------------------------- find cells

@dataclass(frozen=True)
class UnitContrast:
    unit: int
    inside: float  # mean value over the span
    outside: float  # mean value over the rest of the text

    @property
    def difference(self) -> float:
        return self.inside - self.outside


def rank_span_units(values: np.ndarray, first: int, last: int, count: int = 10) -> list[UnitContrast]:
    """Units most differently active on characters first..last (inclusive) than on the rest.

    LSTMVis' select view, simplified: ranked by |mean inside − mean outside|, since a unit that
    switches off for the span marks it as well as one that switches on. A span covering the whole
    text is compared with zero.
    """
    first, last = max(0, first), min(len(values) - 1, last)
    if last < first:
        return []
    inside = values[first:last + 1].mean(axis=0)
    rest = np.concatenate([values[:first], values[last + 1:]])
    outside = rest.mean(axis=0) if len(rest) else np.zeros_like(inside)
    order = np.argsort(-np.abs(inside - outside), kind="stable")[:count]
    return [UnitContrast(int(u), float(inside[u]), float(outside[u])) for u in order]


def contrast_rows(contrasts: list[UnitContrast]) -> list[dict]:
    return [{"unit": c.unit, "mean inside": round(c.inside, 3), "mean outside": round(c.outside, 3),
             "difference": round(c.difference, 3)} for c in contrasts]


def default_span(text: str) -> tuple[int, int]:
    """(first, last) characters worth selecting first: inside the first brackets or quotes, else the last word."""
    bracketed = re.search(r"\(([^()]+)\)|\"([^\"]+)\"", text)
    if bracketed:
        group = 1 if bracketed[1] else 2
        return bracketed.start(group), bracketed.end(group) - 1
    words = list(re.finditer(r"\w+", text))
    if words:
        return words[-1].start(), words[-1].end() - 1
    return 0, max(0, len(text) - 1)


SPAN_COLOUR = "#ffd6ec"


def span_pieces(text: str, first: int, last: int) -> list[Piece]:
    """The text with characters first..last highlighted."""
    pieces = [Piece(text[:first], "transparent"), Piece(text[first:last + 1], SPAN_COLOUR, "selected span"),
              Piece(text[last + 1:], "transparent")]
    return [p for p in pieces if p.text]


# ---------------------------------------------------------------- heatmaps

def colour_range(gate: str, values: np.ndarray) -> dict:
    """Gates on a 0..1 sequential scale; candidate and hidden on -1..1; the cell on ± its largest |c|."""
    if gate in SIGMOID_GATES:
        return {"colorscale": "Viridis", "zmin": 0.0, "zmax": 1.0}
    if gate == "cell":
        limit = float(np.abs(values).max()) if values.size else 1.0
        return {"colorscale": "RdBu_r", "zmin": -max(limit, 1e-6), "zmax": max(limit, 1e-6)}
    return {"colorscale": "RdBu_r", "zmin": -1.0, "zmax": 1.0}


def heatmap_figure(rows: list[tuple[str, np.ndarray]], units: list[int], text: str,
                   span: tuple[int, int] | None = None, window: int = INITIAL_WINDOW) -> dict:
    """One heatmap per (gate, values (time, hidden)) row: the chosen units × the characters of text.

    Characters run along a shared x-axis (zooming one row zooms all), one column each, labelled
    with the character under every row; the first view shows the last ``window`` characters
    (PHONE_WINDOW on a phone, where 120 labels would overlap).
    An optional span (first, last) is outlined in every row.

    Built as a plain Plotly spec: Streamlit validates a figure once anyway, and building it through
    make_subplots and update_* costs several times more on every keystroke.
    """
    columns, labels = character_columns(text), [char_label(c) for c in text]
    row_height, gap = 45 + 13 * max(1, len(units)), 48  # pixels; the gap holds tick labels and a title
    height = 30 + len(rows) * (row_height + gap)
    data, shapes, titles = [], [], []
    layout = {"height": height, "margin": {"l": 50, "r": 20, "t": 30, "b": 10}}
    for row, (gate, values) in enumerate(rows):
        x, y = ("x", "y") if row == 0 else (f"x{row + 1}", f"y{row + 1}")
        top = 1 - row * (row_height + gap) / height
        domain = [top - row_height / height, top]
        chosen = values[:, units].T  # (units, time)
        data.append({"type": "heatmap", "z": chosen, "x": columns, "y": [f"#{u}" for u in units],
                     "xaxis": x, "yaxis": y, "name": SYMBOLS[gate],
                     "hovertemplate": f"character %{{x}}<br>unit %{{y}}: {SYMBOLS[gate]} = %{{z:.3f}}<extra></extra>",
                     "colorbar": {"len": domain[1] - domain[0], "y": sum(domain) / 2, "yanchor": "middle",
                                  "thickness": 10, "title": {"text": SYMBOLS[gate]}},
                     **colour_range(gate, chosen)})
        layout[x.replace("x", "xaxis")] = {
            "type": "category", "anchor": y, "matches": "x" if row else None, "range": initial_window(len(text), window),
            "tickmode": "array", "tickvals": columns, "ticktext": labels, "tickangle": 0,
            "tickfont": {"size": 10, "family": "monospace"}}
        layout[y.replace("y", "yaxis")] = {"domain": domain, "anchor": x, "autorange": "reversed",
                                           "type": "category", "tickfont": {"size": 9}}
        titles.append(axis_title(f"{SYMBOLS[gate]}: {NAMES[gate]}", x=0, y=top))
        if span is not None:
            shapes.append({"type": "rect", "xref": x, "yref": f"{y} domain", "x0": span[0] - 0.5,
                           "x1": span[1] + 0.5, "y0": 0, "y1": 1, "line": {"color": "#e4007c", "width": 2}})
    layout.update(annotations=titles, shapes=shapes)
    return {"data": data, "layout": layout}


def character_columns(text: str) -> list[str]:
    """One category per character position, unique even where characters repeat; shown on hover."""
    return [f"{t} ‘{char_label(c)}’" for t, c in enumerate(text)]


def initial_window(length: int, width: int = INITIAL_WINDOW) -> tuple[float, float]:
    """The x range first shown: the last `width` characters, where the typing happens."""
    return max(0, length - width) - 0.5, length - 0.5


def guesses_figure(guesses: list[list[tuple[str, float]]], text: str, window: int = GUESS_WINDOW) -> dict:
    """Karpathy's strip: under each character, the model's top guesses for the next one.

    Column t holds the guesses after reading text[: t + 1], best on top, coloured by probability
    (white letters on the darkest greens). The first view shows the last ``window`` columns.
    """
    k = max((len(g) for g in guesses), default=0)
    columns = character_columns(text)
    heatmap = {"type": "heatmap", "x": columns, "y": [f"guess {r + 1}" for r in range(k)],
               "z": np.array([[g[r][1] for g in guesses] for r in range(k)]).reshape(k, len(guesses)),
               "text": [[char_label(g[r][0]) for g in guesses] for r in range(k)],
               "texttemplate": "%{text}", "textfont": {"family": "monospace", "size": 14},
               "colorscale": "Greens", "zmin": 0.0, "zmax": 1.0, "colorbar": {"thickness": 10, "title": {"text": "P"}},
               "hovertemplate": "after character %{x}<br>next ‘%{text}’ with P = %{z:.2f}<extra></extra>"}
    layout = {"height": 260, "margin": {"l": 60, "r": 20, "t": 40, "b": 10},
              "xaxis": {"type": "category", "side": "top", "range": initial_window(len(text), window), "tickmode": "array",
                        "tickvals": columns, "ticktext": [char_label(c) for c in text], "tickangle": 0,
                        "tickfont": {"size": 15, "family": "monospace"}},
              "yaxis": {"autorange": "reversed"}}
    return {"data": [heatmap], "layout": layout}


# ---------------------------------------------------------------- Karpathy's cell view

def signed_scale(gate: str, values: np.ndarray) -> np.ndarray:
    """Values mapped to -1..1 for a diverging colour: gates 0..1 -> -1..1, the cell through tanh."""
    if gate in SIGMOID_GATES:
        return 2 * values - 1
    if gate == "cell":
        return np.tanh(values)
    return values


def cell_pieces(text: str, gate: str, values: np.ndarray,
                guesses: list[list[tuple[str, float]]] | None = None) -> list[Piece]:
    """Text coloured by one unit's values (time,), with the value and next-char guesses as tooltips."""
    shades = signed_scale(gate, values)
    pieces = []
    for t, char in enumerate(text):
        tooltip = f"{SYMBOLS[gate]} = {values[t]:+.3f}"
        if guesses:
            tooltip += " · next: " + ", ".join(f"{VISIBLE.get(c, c)} {p:.2f}" for c, p in guesses[t])
        pieces.append(Piece(char, diverging_colour(shades[t]), tooltip))
    return pieces


# ---------------------------------------------------------------- the equations, with numbers

@dataclass(frozen=True)
class EquationNumbers:
    """One unit at one character: the gates and states the LSTM equations combine."""

    unit: int
    position: int
    char: str
    input: float
    forget: float
    output: float
    candidate: float
    cell_before: float  # c_{t-1}
    cell: float
    hidden: float


def equation_numbers(trace: GateTrace, layer_index: int, unit: int, position: int) -> EquationNumbers:
    layer = trace.layers[layer_index]
    cell_before = layer["cell"][position - 1, unit] if position > 0 else trace.start_cells[layer_index][unit]
    return EquationNumbers(
        unit=unit, position=position, char=trace.text[position], cell_before=float(cell_before),
        **{gate: float(layer[gate][position, unit]) for gate in GATES})


def equation_rows(n: EquationNumbers) -> list[tuple[str, str, list[list[str]]]]:
    """The seed talk's six equations with the numbers of unit n.unit at character n.position: each
    its left side, its definition and the steps of its arithmetic (each step the terms of a sum).

    c_t and h_t are recomputed here from the traced gates: the printed results are the equations'
    own arithmetic, and they agree with the traced c_t and h_t (the tests check it).
    """
    cell = n.forget * n.cell_before + n.input * n.candidate
    hidden = n.output * np.tanh(cell)
    return [
        ("i_t", r"\sigma(W_i x_t + U_i h_{t-1} + b_i)", [[f"{n.input:.3f}"]]),
        ("f_t", r"\sigma(W_f x_t + U_f h_{t-1} + b_f)", [[f"{n.forget:.3f}"]]),
        ("o_t", r"\sigma(W_o x_t + U_o h_{t-1} + b_o)", [[f"{n.output:.3f}"]]),
        (r"\tilde c_t", r"\tanh(W_c x_t + U_c h_{t-1} + b_c)", [[f"{n.candidate:+.3f}"]]),
        ("c_t", r"f_t\, c_{t-1} + i_t\, \tilde c_t",
         [[rf"{n.forget:.3f} \cdot ({n.cell_before:+.3f})", rf"{n.input:.3f} \cdot ({n.candidate:+.3f})"], [f"{cell:+.3f}"]]),
        ("h_t", r"o_t \tanh(c_t)", [[rf"{n.output:.3f} \cdot \tanh({cell:+.3f})"], [f"{hidden:+.3f}"]]),
    ]


def equations_latex(n: EquationNumbers) -> str:
    """The equations in one aligned block, one a line, the numbers in a column of their own (a wide screen)."""
    lines = [rf"{left} &= {definition} &&= " + " = ".join(" + ".join(terms) for terms in steps)
             for left, definition, steps in equation_rows(n)]
    return r"\begin{aligned}" + r" \\".join(lines) + r"\end{aligned}"


def narrow_equations_latex(n: EquationNumbers) -> list[str]:
    """The equations one by one, each step of the arithmetic (and each term of a sum) on a line of its
    own: a phone's width holds them, however large the cell state grows."""
    return [r"\begin{aligned}" + rf"{left} &= {definition}"
            + "".join(rf" \\ &= {terms[0]}" + "".join(rf" \\ &\quad + {term}" for term in terms[1:]) for terms in steps)
            + r"\end{aligned}" for left, definition, steps in equation_rows(n)]
