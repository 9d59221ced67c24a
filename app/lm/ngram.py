"""An interpolated modified Kneser-Ney n-gram language model, for characters or for words.

The baseline every neural LM in the project is measured against: "how well does counting do?".
Chen & Goodman (1999), interpolated, with three discounts per order:

    P_k(w | h) = (max(c(hw) - D_k(c(hw)), 0) + gamma_k(h) * P_{k-1}(w | h')) / c(h.)
    gamma_k(h) = D_k(1) N_1(h.) + D_k(2) N_2(h.) + D_k(3+) N_3+(h.)

where h' is h without its oldest token, c(h.) sums c(hw) over w, and N_j(h.) counts the words
seen j times after h. The highest order counts n-grams; lower orders count how many distinct
tokens precede them (continuation counts: "Francisco" is frequent but follows only "San").
Below the unigrams sits the uniform distribution over the vocabulary, so every token of the
vocabulary, the unknown one included, gets some probability. A context never seen falls back
to the next shorter one.

Implementation: tokens become ids, an n-gram becomes one int64 (each id takes ``bits`` bits,
the oldest token highest), and each order is a sorted key array with counts, looked up with
``np.searchsorted``. Since the context of a key is ``key >> bits``, the n-grams sharing a
context are adjacent in the sorted array: context totals are one ``np.add.reduceat``.
A character 9-gram over 7 M characters fits in seconds and a few hundred MB.

    lm = KneserNey.fit(train_text, order=7)          # characters (a str is a token stream)
    lm.log_probs("Nice dress.", context="\\n")       # natural log P of each character
    lm.nats_per_token(test_text)                     # one stateful pass over a whole stream
    words = KneserNey.fit(word_stream, order=3, vocabulary=["<unk>", "the", ...])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN_TOKEN = "<unk>"


@dataclass
class OrderTable:
    """The counts of one order: sorted n-gram keys, and per context its total and back-off mass."""

    keys: np.ndarray  # int64, sorted: the n-grams seen
    counts: np.ndarray  # int64: their counts (continuation counts below the highest order)
    context_keys: np.ndarray  # int64, sorted: the distinct contexts (key >> bits)
    context_totals: np.ndarray  # float64: c(h.)
    context_backoff: np.ndarray  # float64: gamma(h) * c(h.) = D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)
    discounts: np.ndarray  # float64 [0, D1, D2, D3+], indexed by min(count, 3)


def estimate_discounts(counts: np.ndarray) -> np.ndarray:
    """Chen & Goodman's discounts from the count-of-counts n1..n4: [0, D1, D2, D3+].

    Y = n1 / (n1 + 2 n2), D1 = 1 - 2Y n2/n1, D2 = 2 - 3Y n3/n2, D3+ = 3 - 4Y n4/n3. A tiny corpus
    may lack some count-of-counts; then the textbook defaults 0.5, 1, 1.5 stand in. Each D_c is
    kept within [0, c], so the discounted counts stay non-negative and the mass still sums to 1.
    """
    n1, n2, n3, n4 = (int(np.count_nonzero(counts == c)) for c in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n1 / (n1 + 2 * n2)
    d = np.array([0.0, 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3])
    return np.clip(d, 0.0, [0.0, 1.0, 2.0, 3.0])


def count_table(keys: np.ndarray, counts: np.ndarray, bits: int) -> OrderTable:
    """An order's table from its (sorted, distinct) keys and counts."""
    discounts = estimate_discounts(counts)
    contexts = keys >> bits
    starts = np.flatnonzero(np.r_[True, contexts[1:] != contexts[:-1]])  # first key of each context
    capped = np.minimum(counts, 3)
    backoff = np.zeros(len(keys))
    for c in (1, 2, 3):
        backoff[capped == c] = discounts[c]
    return OrderTable(keys=keys, counts=counts, context_keys=contexts[starts],
                      context_totals=np.add.reduceat(counts, starts).astype(np.float64),
                      context_backoff=np.add.reduceat(backoff, starts), discounts=discounts)


def lookup(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, found) of each query in a sorted key array; index is meaningful where found."""
    index = np.searchsorted(sorted_keys, queries)
    index = np.minimum(index, max(0, len(sorted_keys) - 1))
    found = (sorted_keys[index] == queries) if len(sorted_keys) else np.zeros(len(queries), bool)
    return index, found


class KneserNey:
    """An order-n interpolated modified Kneser-Ney model over a fixed vocabulary.

    ``vocabulary[0]`` is the unknown token: anything outside the vocabulary is read as it.
    A stream is a ``str`` (its characters are the tokens) or a sequence of hashable tokens.
    """

    def __init__(self, order: int, vocabulary: Sequence, tables: list[OrderTable]):
        self.order = order
        self.vocabulary = list(vocabulary)
        self.index = {token: i for i, token in enumerate(self.vocabulary)}
        self.bits = max(1, (len(self.vocabulary) - 1).bit_length())
        self.tables = tables  # tables[k - 1] holds order k

    # -------------------------------------------------------- fitting

    @classmethod
    def fit(cls, stream: str | Sequence, order: int, vocabulary: Sequence | None = None,
            unknown: str = UNKNOWN_TOKEN) -> KneserNey:
        """Count a training stream. Without a vocabulary, every token of the stream is in it."""
        if order < 1:
            raise ValueError("order must be at least 1")
        if vocabulary is None:
            vocabulary = [unknown] + sorted(set(stream) - {unknown})
        bits = max(1, (len(vocabulary) - 1).bit_length())
        if order * bits > 63:
            raise ValueError(f"an order-{order} key over {len(vocabulary):,} tokens needs {order * bits} bits; "
                             "at most 63 fit an int64: use a lower order or a smaller vocabulary")
        model = cls(order, vocabulary, [])
        ids = model.encode(stream)
        if len(ids) < order:
            raise ValueError(f"a stream of {len(ids)} tokens is too short for an order-{order} model")

        # The highest order counts every n-gram of the stream ...
        keys, counts = np.unique(model.stream_keys(ids, order), return_counts=True)
        tables = [count_table(keys, counts, bits)]
        # ... each lower order counts the distinct tokens seen before it (its continuation count).
        for k in range(order - 1, 0, -1):
            suffixes = tables[0].keys & ((1 << (k * bits)) - 1)  # drop the oldest token
            keys, counts = np.unique(suffixes, return_counts=True)
            tables.insert(0, count_table(keys, counts, bits))
        model.tables = tables
        return model

    def encode(self, stream: str | Sequence) -> np.ndarray:
        """Token ids (int64); tokens outside the vocabulary become 0, the unknown token."""
        index = self.index
        return np.fromiter((index.get(t, 0) for t in stream), dtype=np.int64, count=len(stream))

    def stream_keys(self, ids: np.ndarray, k: int) -> np.ndarray:
        """The key of every k-gram of an id stream (one per position from k - 1 on)."""
        keys = ids[k - 1:].copy()
        for back in range(1, k):  # add older tokens at higher bits
            keys |= ids[k - 1 - back:len(ids) - back] << (back * self.bits)
        return keys

    # -------------------------------------------------------- probabilities

    def probabilities(self, windows: np.ndarray, history: np.ndarray) -> np.ndarray:
        """P(last token | the tokens before it) for each row of windows (rows, order) of ids,
        of which only the last ``history`` (per row, 0 .. order - 1) context tokens are real."""
        p = np.full(len(windows), 1.0 / len(self.vocabulary))  # below the unigrams: uniform
        keys = np.zeros(len(windows), dtype=np.int64)
        for k, table in enumerate(self.tables, start=1):
            keys |= windows[:, self.order - k] << ((k - 1) * self.bits)  # the k-gram ending here
            usable = history >= k - 1
            at, seen = lookup(table.context_keys, keys >> self.bits)
            seen &= usable
            if not seen.any():
                continue
            i, found = lookup(table.keys, keys[seen])
            counts = np.where(found, table.counts[i], 0)
            discounted = np.maximum(counts - table.discounts[np.minimum(counts, 3)], 0.0)
            ctx = at[seen]
            p[seen] = (discounted + table.context_backoff[ctx] * p[seen]) / table.context_totals[ctx]
        return p

    def log_probs(self, tokens: str | Sequence, context: str | Sequence = ()) -> np.ndarray:
        """Natural-log probability of each token, each given the tokens before it (after context).

        One pass: the history runs on across the tokens (stateful), up to order - 1 tokens back.
        """
        ids = np.concatenate([self.encode(context), self.encode(tokens)])
        return np.log(self.probabilities(*self.windows(ids, start=len(ids) - len(tokens))))

    def windows(self, ids: np.ndarray, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(windows, history) for ``probabilities``: the order ids ending at each position of ids from
        start on (unknown ids stand before the stream), and how many of its context ids are real."""
        padded = np.concatenate([np.zeros(self.order - 1, dtype=np.int64), ids])
        rows = np.arange(start, len(ids))
        return padded[rows[:, None] + np.arange(self.order)], np.minimum(rows, self.order - 1)

    def nats_per_token(self, stream: str | Sequence, chunk: int = 1_000_000) -> float:
        """Mean -log P over a whole stream scored in one pass (the history never resets)."""
        total = 0.0
        for start in range(0, len(stream), chunk):
            context = stream[max(0, start - self.order + 1):start]
            total -= float(self.log_probs(stream[start:start + chunk], context).sum())
        return total / max(1, len(stream))

    def distribution(self, context: str | Sequence = ()) -> np.ndarray:
        """P(next token) over the whole vocabulary (in vocabulary order) after a context."""
        ids = self.encode(context)[-(self.order - 1):] if self.order > 1 else np.zeros(0, np.int64)
        history = len(ids)
        window = np.concatenate([np.zeros(self.order - 1 - history, dtype=np.int64), ids, [0]])
        windows = np.tile(window, (len(self.vocabulary), 1))
        windows[:, -1] = np.arange(len(self.vocabulary))
        return self.probabilities(windows, np.full(len(self.vocabulary), history))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(t.keys):,}" for t in self.tables)
        return f"KneserNey(order={self.order}, vocabulary={len(self.vocabulary):,}, n-grams per order: {sizes})"
