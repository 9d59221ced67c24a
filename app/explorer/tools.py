"""The explorer's tools: analogy, odd one out, similarity, two models compared, and the neighbour
tables. Each turns free text into an ``Outcome`` the page shows, never an exception."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.data.lexicon import category_of
from app.explorer.words import read_word_list
from app.vectors.embeddings import Embeddings

DEFAULT_ODD_ONE_OUT = ("dress skirt blouse silk", "france germany italy london")
DEFAULT_PAIRS = (("silk", "satin"), ("king", "queen"))


@dataclass(frozen=True)
class AnalogyExample:
    """a − b + c ≈ expected: an example the page offers, checked to have ``expected`` in its top 5."""

    a: str
    b: str
    c: str
    expected: str

    @property
    def label(self) -> str:
        return f"{self.a} − {self.b} + {self.c}"


def _examples(*lines: str) -> list[AnalogyExample]:
    return [AnalogyExample(*line.split()) for line in lines]


# Chosen per model by trying them (tests/test_explorer.py checks each answer is in the top 5):
# the small wiki-sample models know grammar better than geography, the fashion ones know sizes,
# seasons and plurals, GloVe knows the classics.
ANALOGY_EXAMPLES = {
    "fashion-reviews": _examples("summer linen wool winter", "sandals summer winter boots",
                                 "tighter tight loose looser", "dresses dress skirt skirts",
                                 "sweater sweaters jackets jacket", "shirt men women blouse"),
    "wiki-sample/skipgram": _examples("his he she her", "son man woman daughter", "father man woman mother"),
    "wiki-sample/cbow": _examples("his he she her"),
    "glove": _examples("king man woman queen", "paris france italy rome", "necklace neck wrist bracelet",
                       "walking walk swim swimming", "sandals summer winter boots", "london england japan tokyo"),
}


def analogy_examples(emb: Embeddings, model_key: str, topn: int = 5) -> list[AnalogyExample]:
    """The curated examples of this model (by key, then by bundle). A model without its own, a user's
    say, gets those of the others that work on it: each is tried, so every offered example works."""
    curated = ANALOGY_EXAMPLES.get(model_key) or ANALOGY_EXAMPLES.get(model_key.split("/")[0])
    if curated:
        return curated
    candidates = dict.fromkeys(example for examples in ANALOGY_EXAMPLES.values() for example in examples)
    return [e for e in candidates if works(emb, e, topn)]


def works(emb: Embeddings, example: AnalogyExample, topn: int = 5) -> bool:
    words = (example.a, example.b, example.c, example.expected)
    return all(w in emb for w in words) and example.expected in {
        w for w, _ in emb.analogy(example.a, example.b, example.c, topn)}


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


def neighbour_rows(neighbours: list[tuple[str, float]], placed: list[bool] | None = None) -> list[dict]:
    """The table under the plot: word and cosine (shown as a bar) first, so a phone shows them
    without scrolling sideways; then rank, fashion category and placement."""
    rows = []
    for rank, (word, score) in enumerate(neighbours, start=1):
        row = {"word": word, "similarity": round(score, 4), "#": rank, "category": category_of(word)}
        if placed is not None:
            row["in the plot"] = "placed" if placed[rank - 1] else "projected"
        rows.append(row)
    return rows


def first_known(choices: tuple, emb: Embeddings):
    """The first example whose words the model knows (the tools' starting values), else the first."""
    for choice in choices:
        words = choice.split() if isinstance(choice, str) else choice
        if all(w in emb for w in words):
            return choice
    return choices[0]


