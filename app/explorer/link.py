"""The explorer's view as a link: what the address bar holds, read back safely from any URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from app.explorer.space import COLOURINGS, PROJECTIONS
from app.explorer.tools import default_comparison
from app.explorer.words import MAX_QUERY_CHARS
from app.vectors.embeddings import Embeddings

NEIGHBOURS_RANGE = (1, 30)
CLUSTERS_RANGE = (2, 30)
DEFAULT_WORDS = {"glove": "manolo", "wiki-sample": "king"}  # by bundle; "dress" elsewhere


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


def phone_view(view: ExplorerView) -> ExplorerView:
    """The same view as a flat map: a 2D plot lets a thumb scroll the page past it, and a tap on a
    point looks it up (Plotly's 3D scenes send no selections)."""
    return replace(view, projection=view.projection[:-1] + "2")


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
