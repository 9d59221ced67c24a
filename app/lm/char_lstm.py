"""A character-level LSTM language model: vocabulary, network, the wrapper the pages use, and its file.

Model: character embedding -> nn.LSTM -> linear head over the character vocabulary.
``LanguageModel`` pairs a trained ``CharLSTM`` with its ``CharVocab`` and writes, scores and
guesses with it. Training lives in ``app.lm.char_training``, batched sampling in
``app.lm.sampling`` and the gate tracer in ``app.lm.gate_trace``.

    >>> vocab = CharVocab.build("hello world", min_count=1)
    >>> lm = LanguageModel(CharLSTM(LMConfig(vocab_size=len(vocab), hidden_size=16, layers=1)), vocab)
    >>> len("".join(lm.generate("he", length=5, seed=0)))
    5
    >>> lm.score("hello").nats_per_char > 0
    True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from app.storage import store

UNKNOWN = "\ufffd"  # shown for characters the model never saw
DOCUMENT_BREAK = "\n"  # separates documents in the training stream; also the "start" context


# ---------------------------------------------------------------- vocabulary

class CharVocab:
    """Characters <-> ids. Id 0 is the unknown character."""

    def __init__(self, chars: list[str]):
        self.chars = [UNKNOWN] + [c for c in chars if c != UNKNOWN]
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, text: str, min_count: int = 5) -> CharVocab:
        counts = Counter(text)
        return cls(sorted(c for c, n in counts.items() if n >= min_count))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(c, 0) for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


# ---------------------------------------------------------------- model

@dataclass
class LMConfig:
    vocab_size: int = 100
    embedding_size: int = 64
    hidden_size: int = 512
    layers: int = 2
    dropout: float = 0.1


class CharLSTM(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(config.embedding_size, config.hidden_size, config.layers,
                            batch_first=True, dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (batch, time) -> logits (batch, time, vocab), new (h, c) state."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(self.drop(out)), state


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ---------------------------------------------------------------- using a trained model

@dataclass
class LanguageModel:
    """A trained model with its vocabulary: what the pages use."""

    model: CharLSTM
    vocab: CharVocab

    def __post_init__(self):
        self.model.eval()

    def ids(self, text: str) -> torch.Tensor:
        return torch.tensor([self.vocab.encode(text)], dtype=torch.long)

    @torch.no_grad()
    def generate(self, prime: str = "", length: int = 200, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = None,
                 stop_at: str | None = None) -> Iterator[str]:
        """Yield characters one at a time (so a page can show them as they come)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        logits, state = self.model(self.ids(DOCUMENT_BREAK + prime))
        logits = logits[0, -1]
        for _ in range(length):
            logits = logits / max(temperature, 1e-4)
            if top_k:
                kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            logits[0] = float("-inf")  # never emit the unknown character
            next_id = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).item()
            char = self.vocab.chars[next_id]
            if stop_at is not None and char in stop_at:
                return
            yield char
            logits, state = self.model(torch.tensor([[next_id]]), state)
            logits = logits[0, -1]

    @torch.no_grad()
    def score(self, text: str, context: str = "") -> TextScore:
        """How surprised the model is by each character of text (after an optional context)."""
        ids = self.vocab.encode(DOCUMENT_BREAK + context + text)
        logits, _ = self.model(torch.tensor([ids]))
        log_probs = torch.log_softmax(logits[0, :-1], dim=-1)[len(context):]
        targets = torch.tensor(ids[1 + len(context):])
        chosen = log_probs.gather(1, targets[:, None])[:, 0]
        ranks = (log_probs > chosen[:, None]).sum(dim=1) + 1
        return TextScore(text=text, log_probs=chosen.numpy(), ranks=ranks.numpy())

    @torch.no_grad()
    def score_batch(self, texts: list[str], batch_size: int = 64) -> list[TextScore]:
        """``score`` of many texts, batch_size at a time in one padded forward pass each.

        Padding goes after each text, so it never changes what the model read before: the LSTM
        reads left to right. Many times faster than one ``score`` per text (deck building scores
        thousands of sentences).
        """
        scores: list[TextScore | None] = [None] * len(texts)
        by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # texts of a batch pad little
        for start in range(0, len(texts), batch_size):
            chunk = by_length[start:start + batch_size]
            encoded = [self.vocab.encode(DOCUMENT_BREAK + texts[i]) for i in chunk]
            width = max(map(len, encoded))
            ids = torch.tensor([e + [0] * (width - len(e)) for e in encoded])
            log_probs = torch.log_softmax(self.model(ids)[0][:, :-1], dim=-1)
            chosen = log_probs.gather(2, ids[:, 1:, None])[..., 0]
            ranks = (log_probs > chosen[..., None]).sum(dim=-1) + 1
            for row, i in enumerate(chunk):
                scores[i] = TextScore(text=texts[i], log_probs=chosen[row, :len(texts[i])].numpy(),
                                      ranks=ranks[row, :len(texts[i])].numpy())
        return scores

    @torch.no_grad()
    def next_char_guesses(self, text: str, k: int = 5) -> list[list[tuple[str, float]]]:
        """After each character of text, the model's k most likely next characters with P."""
        logits, _ = self.model(self.ids(DOCUMENT_BREAK + text))
        return self.top_characters(logits[0, 1:], k)  # position t: having read text[: t + 1]

    def top_characters(self, logits: torch.Tensor, k: int) -> list[list[tuple[str, float]]]:
        """For each row of next-character logits, the k most likely characters with P."""
        top = torch.topk(torch.softmax(logits, dim=-1), min(k, logits.shape[-1]), dim=-1)
        return [[(self.vocab.chars[i], p) for p, i in zip(ps, ids, strict=True)]
                for ps, ids in zip(top.values.tolist(), top.indices.tolist(), strict=True)]

    @torch.no_grad()
    def next_words(self, context: str, k: int = 5, beam: int = 24,
                   max_length: int = 16) -> list[tuple[str, float]]:
        """The k most likely words to follow context, by beam search over characters.

        A word ends at the first character that is not a letter, digit, apostrophe or hyphen;
        its probability is the product of its characters' and of that ending character's.
        """
        context = context if context.endswith(" ") else context + " "
        logits, state = self.model(self.ids(DOCUMENT_BREAK + context))
        beams = [("", 0.0, logits[0, -1], state)]  # (word so far, log P, next logits, state)
        finished: dict[str, float] = {}
        for _ in range(max_length):
            candidates = []
            for word, logp, logits, state in beams:
                log_probs = torch.log_softmax(logits, -1)
                top = torch.topk(log_probs, min(beam, log_probs.numel()))
                for lp, i in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    char = self.vocab.chars[i]
                    if char.isalnum() or (char in "'-" and word):
                        candidates.append((word + char, logp + lp, i, state))
                    elif word:  # the word is complete
                        finished[word] = float(np.logaddexp(finished.get(word, -np.inf), logp + lp))
            candidates.sort(key=lambda c: -c[1])
            best = candidates[:beam]
            if not best or (len(finished) >= k and best[0][1] < sorted(finished.values())[-k]):
                break
            ids = torch.tensor([[c[2]] for c in best])
            h = torch.cat([c[3][0] for c in best], dim=1)
            c_ = torch.cat([c[3][1] for c in best], dim=1)
            logits, (h, c_) = self.model(ids, (h, c_))
            beams = [(word, logp, logits[j, -1], (h[:, j:j + 1], c_[:, j:j + 1]))
                     for j, (word, logp, _, _) in enumerate(best)]
        ranked = sorted(finished.items(), key=lambda item: -item[1])[:k]
        return [(word, float(np.exp(logp))) for word, logp in ranked]

    def next_words_by_context(self, context: str, cut_lengths: list[int],
                              k: int = 5) -> list[tuple[int, list[tuple[str, float]]]]:
        """next_words with the whole context, then cut to its last N characters for each N.

        Shows how far back the model reads: guesses that change only when the cut removes a
        distant word are long-range memory at work.
        """
        lengths = sorted({min(n, len(context)) for n in cut_lengths} | {len(context)}, reverse=True)
        return [(n, self.next_words(context[-n:] if n else "", k)) for n in lengths]


@dataclass
class TextScore:
    text: str
    log_probs: np.ndarray  # natural log of P(character), one per character
    ranks: np.ndarray  # 1 = the model's top guess

    @property
    def nats_per_char(self) -> float:
        return float(-self.log_probs.mean()) if len(self.log_probs) else float("nan")


# ---------------------------------------------------------------- its file (float16 safetensors)

def save_language_model(path: Path, lm: LanguageModel) -> Path:
    """The char-LSTM: weights, then its config and vocabulary in the header."""
    return store.save_weights(path, lm.model, config=asdict(lm.model.config), chars=lm.vocab.chars)


def load_language_model(path: Path) -> LanguageModel:
    weights, header = store.load_weights(path)
    model = CharLSTM(LMConfig(**header["config"]))
    model.load_state_dict(weights)
    return LanguageModel(model, CharVocab(header["chars"]))


def round_to_float16(lm: LanguageModel) -> None:
    """Make the in-memory weights exactly what the float16 file will hold, before measuring them."""
    with torch.no_grad():
        for p in lm.model.parameters():
            p.copy_(p.half().float())
