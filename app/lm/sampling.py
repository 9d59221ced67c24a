"""Batched sampling from the char-LSTM: many texts side by side, optionally constrained.

The quiz's fakes are drawn here (``app.game.fakes``, ``app.game.decks``): one forward pass per
character for the whole batch. ``LanguageModel.generate`` writes one text, a character at a time.

    >>> from app.lm.char_lstm import CharLSTM, CharVocab, LanguageModel, LMConfig
    >>> vocab = CharVocab.build("hello world", min_count=1)
    >>> lm = LanguageModel(CharLSTM(LMConfig(vocab_size=len(vocab), hidden_size=16, layers=1)), vocab)
    >>> len(sample_batch(lm, count=3, length=10, seed=0))
    3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from app.lm.char_lstm import DOCUMENT_BREAK, LanguageModel


@dataclass(frozen=True)
class Decoding:
    """How a writer draws each next character (or word) from its distribution.

        >>> Decoding(top_p=0.8).name
        'temperature 1, top-p 0.8'
    """

    temperature: float = 1.0
    top_p: float = 1.0  # nucleus sampling: only the likeliest choices that make up top_p

    @property
    def name(self) -> str:
        return f"temperature {self.temperature:g}" + (f", top-p {self.top_p:g}" if self.top_p < 1 else "")


class SamplingConstraint(Protocol):
    """Which characters each of a batch of samples may write next (see ``sample_batch``)."""

    def start(self, count: int) -> None: ...

    def allowed(self) -> torch.Tensor: ...  # (count, vocab) bool; at least one True per row

    def advance(self, next_ids: list[int]) -> None: ...


@torch.no_grad()
def sample_batch(lm: LanguageModel, count: int, length: int = 300, temperature: float = 1.0,
                 seed: int | None = None, stop_at: str = DOCUMENT_BREAK, top_p: float = 1.0,
                 constraint: SamplingConstraint | None = None,
                 should_stop: Callable[[], bool] | None = None) -> list[str]:
    """count independent samples, each from the start of a document, drawn side by side.

    One forward pass per character for the whole batch instead of one per character per
    sample (what ``LanguageModel.generate`` does): many times faster when a page needs a
    pool of texts. A sample ends before its first ``stop_at`` character, or after length.
    top_p < 1 is nucleus sampling (Holtzman et al. 2020): each step draws only from the likeliest
    characters whose probabilities add up to top_p, cutting the unreliable tail.
    A constraint may forbid some next characters of each sample at each step; should_stop
    ends all samples early (a background sampler asked to quit).
    """
    if constraint is not None:
        constraint.start(count)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    logits, state = lm.model(torch.tensor([lm.vocab.encode(DOCUMENT_BREAK)] * count))
    logits = logits[:, -1]
    stop_ids = torch.tensor([lm.vocab.index[c] for c in stop_at if c in lm.vocab.index], dtype=torch.long)
    chosen = torch.zeros(count, length, dtype=torch.long)
    stopped = torch.zeros(count, dtype=torch.bool)
    steps = 0
    for steps in range(1, length + 1):
        logits = logits / max(temperature, 1e-4)
        logits[:, 0] = float("-inf")  # never emit the unknown character
        if constraint is not None:
            logits = logits.masked_fill(~constraint.allowed(), float("-inf"))
        probs = torch.softmax(logits, -1)
        if top_p < 1.0:
            probs = nucleus(probs, top_p)
        next_ids = torch.multinomial(probs, 1, generator=generator)[:, 0]
        chosen[:, steps - 1] = next_ids
        if constraint is not None:
            constraint.advance(next_ids.tolist())
        stopped |= torch.isin(next_ids, stop_ids)
        if bool(stopped.all()) or (should_stop is not None and should_stop()):
            break
        logits, state = lm.model(next_ids[:, None], state)
        logits = logits[:, -1]
    texts = [lm.vocab.decode(row) for row in chosen[:, :steps].tolist()]
    return [_cut_at_first(text, stop_at) for text in texts]


def nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """probs (rows of a batch) kept only on each row's smallest set of likeliest entries whose
    sum reaches top_p (the likeliest entry always stays), renormalised.

        >>> nucleus(torch.tensor([[0.5, 0.3, 0.2]]), 0.7).tolist()
        [[0.625, 0.375, 0.0]]
    """
    ordered, order = probs.sort(-1, descending=True)
    before = ordered.cumsum(-1) - ordered  # probability of the likelier entries
    ordered = ordered.masked_fill(before >= top_p, 0.0)
    kept = torch.zeros_like(probs).scatter(-1, order, ordered)
    return kept / kept.sum(-1, keepdim=True)


def _cut_at_first(text: str, stop_at: str) -> str:
    cut = min((i for i in (text.find(c) for c in stop_at) if i >= 0), default=len(text))
    return text[:cut]
