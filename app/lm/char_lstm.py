"""A character-level LSTM language model, its training loop, sampling, scoring and gate tracer.

Model: character embedding -> nn.LSTM -> linear head over the character vocabulary.
The gate tracer runs the very same weights through an explicit LSTM cell, written with the
textbook equations, so the app can show every gate at every character.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

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


# ---------------------------------------------------------------- training

@dataclass
class TrainConfig:
    seed: int = 1337
    batch_size: int = 64
    sequence_length: int = 128
    learning_rate: float = 3e-3
    warmup_steps: int = 100
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    max_steps: int = 20_000
    eval_every: int = 200
    eval_batches: int = 20
    minutes: float | None = None  # stop after this much training time in all (the run can be resumed)
    checkpoint_seconds: float = 60.0  # a checkpoint at least this often, so kill -9 loses at most this
    device: str = field(default_factory=lambda: "cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class TrainHistory:
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def random_batch(data: np.ndarray, batch_size: int, length: int, rng: np.random.Generator):
    """Input and next-character target windows at random offsets of the id stream."""
    starts = rng.integers(0, len(data) - length - 1, size=batch_size)
    x = np.stack([data[s:s + length] for s in starts])
    y = np.stack([data[s + 1:s + length + 1] for s in starts])
    return torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(model: CharLSTM, data: np.ndarray, batches: int, batch_size: int, length: int,
             deadline: float | None = None) -> float:
    """Mean nats/char over fixed, evenly spaced windows (deterministic: same data, same number).

    With a ``deadline`` (a time.monotonic() value) it stops after the batch that passes it: the
    windows are visited in a fixed shuffled order, so the batches done still cover the whole split.
    """
    model.eval()
    device = model_device(model)
    n_windows = batches * batch_size
    stride = max(1, (len(data) - length - 1) // n_windows)
    starts = np.arange(n_windows) * stride
    starts = np.random.default_rng(0).permutation(starts[starts + length + 1 <= len(data)])
    total, count = 0.0, 0
    for chunk in np.array_split(starts, max(1, len(starts) // batch_size)):
        if count and deadline is not None and time.monotonic() > deadline:
            break
        x = torch.from_numpy(np.stack([data[s:s + length] for s in chunk]).astype(np.int64))
        y = torch.from_numpy(np.stack([data[s + 1:s + length + 1] for s in chunk]).astype(np.int64))
        logits, _ = model(x.to(device))
        y = y.to(device)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / max(1, count)


def train(model: CharLSTM, train_ids: np.ndarray, val_ids: np.ndarray, config: TrainConfig,
          checkpoint: Path | None = None, progress: Callable[[int, dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None, deadline: float | None = None) -> TrainHistory:
    """AdamW with gradient clipping; validation every eval_every steps. A checkpoint (model,
    optimiser, step, history, RNG state), which a later call resumes from, follows every
    validation, at least every checkpoint_seconds, and a Ctrl-C (KeyboardInterrupt: saved, then
    raised again). Training ends at max_steps, when ``config.minutes`` of training are done in
    all, at ``deadline`` (a time.monotonic() value: this call's wall-clock end), or when
    should_stop() says so; whichever comes first, the last step is validated and saved."""
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model.to(config.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    history, step = TrainHistory(), 0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True, map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        history = TrainHistory(**json.loads(state["history"]))
        rng.bit_generator.state = json.loads(state["rng"])

    started = time.monotonic()
    seconds_before = history.seconds
    # When training must end, as a monotonic time: the earlier of the minutes and the deadline.
    end = deadline if deadline is not None else math.inf
    if config.minutes is not None:
        end = min(end, started + config.minutes * 60 - seconds_before)
    training_seconds = seconds_before + (end - started)  # this run's whole schedule, in seconds

    def lr_at(s: int) -> float:
        """Short warm-up, then cosine decay to 10% over whichever budget (steps or time) ends first."""
        warmup = config.warmup_steps
        if s < warmup:
            return config.learning_rate * (s + 1) / warmup
        done = (s - warmup) / max(1, config.max_steps - warmup)
        if math.isfinite(end):
            done = max(done, (seconds_before + time.monotonic() - started) / max(1e-6, training_seconds))
        return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))

    def save() -> None:
        history.seconds = seconds_before + time.monotonic() - started
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, step, history, rng)

    bar = tqdm(total=config.max_steps, initial=step, desc="char-LSTM", unit="step")
    running, saved_at, saved_step = None, time.monotonic(), step
    model.train()
    try:
        while step < config.max_steps and time.monotonic() < end:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            x, y = random_batch(train_ids, config.batch_size, config.sequence_length, rng)
            x, y = x.to(config.device), y.to(config.device)
            logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            step += 1
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{running:.3f}")

            out_of_time = time.monotonic() >= end
            stop_asked = should_stop is not None and should_stop()
            if step % config.eval_every == 0 or step == config.max_steps or out_of_time or stop_asked:
                val = evaluate(model, val_ids, config.eval_batches, config.batch_size, config.sequence_length)
                history.steps.append(step)
                history.train_loss.append(round(running, 4))
                history.val_loss.append(round(val, 4))
                bar.write(f"step {step}: train {running:.4f}  val {val:.4f} nats/char")
                save()
                saved_at, saved_step = time.monotonic(), step
                if progress is not None:
                    progress(step, {"train_loss": running, "val_loss": val})
            elif time.monotonic() - saved_at >= config.checkpoint_seconds:
                save()
                saved_at, saved_step = time.monotonic(), step
            if stop_asked:
                break
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM turned into one by the CLI: keep what was learnt
        if step > saved_step:
            save()
        bar.write(f"interrupted: checkpoint at step {step}" if checkpoint is not None else "interrupted")
        raise
    finally:
        bar.close()
    if step and (not history.steps or history.steps[-1] != step):  # resumed with no time left: say where it is
        val = round(evaluate(model, val_ids, config.eval_batches, config.batch_size, config.sequence_length), 4)
        history.steps.append(step)
        history.train_loss.append(round(running, 4) if running is not None else
                                  (history.train_loss[-1] if history.train_loss else val))
        history.val_loss.append(val)
    history.seconds = seconds_before + time.monotonic() - started
    model.to("cpu")  # the app serves from the CPU
    return history


def save_checkpoint(path: Path, model, optimizer, step: int, history: TrainHistory, rng) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "history": json.dumps(asdict(history)), "rng": json.dumps(rng.bit_generator.state)}, tmp)
    tmp.replace(path)  # atomic: an interrupted save never leaves a broken checkpoint


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


# ---------------------------------------------------------------- gate tracer

GATES = ("input", "forget", "output", "candidate", "cell", "hidden")


@torch.no_grad()
def trace_gates(model: CharLSTM, ids: list[int]) -> list[dict[str, np.ndarray]]:
    """Run the LSTM one character at a time with explicit equations.

    For each layer, a dict gate name -> array (time, hidden) of
      i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
      f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
      o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
      c̃ = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate (new memory)
      c = f ∘ c + i ∘ c̃                         cell state
      h = o ∘ tanh(c)                            hidden state
    PyTorch stores the four blocks of W_ih / W_hh in the order i, f, g (= c̃), o.
    """
    lstm = model.lstm
    x = model.embed(torch.tensor(ids, dtype=torch.long))  # (time, embedding)
    layers = []
    for layer in range(lstm.num_layers):
        W_ih = getattr(lstm, f"weight_ih_l{layer}")
        W_hh = getattr(lstm, f"weight_hh_l{layer}")
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        input_part = x @ W_ih.T + bias  # all time steps at once: it does not depend on h
        H = lstm.hidden_size
        h, c = torch.zeros(H), torch.zeros(H)
        record = {name: torch.empty(len(ids), H) for name in GATES}
        for t in range(len(ids)):
            pre = input_part[t] + W_hh @ h
            i = torch.sigmoid(pre[0:H])
            f = torch.sigmoid(pre[H:2 * H])
            c_tilde = torch.tanh(pre[2 * H:3 * H])
            o = torch.sigmoid(pre[3 * H:4 * H])
            c = f * c + i * c_tilde
            h = o * torch.tanh(c)
            for name, value in zip(GATES, (i, f, o, c_tilde, c, h), strict=True):
                record[name][t] = value
        layers.append({name: value.numpy() for name, value in record.items()})
        x = record["hidden"]  # next layer reads this layer's hidden states
    return layers


# ---------------------------------------------------------------- batched sampling

class SamplingConstraint(Protocol):
    """Which characters each of a batch of samples may write next (see ``sample_batch``)."""

    def start(self, count: int) -> None: ...

    def allowed(self) -> torch.Tensor: ...  # (count, vocab) bool; at least one True per row

    def advance(self, next_ids: list[int]) -> None: ...


@torch.no_grad()
def sample_batch(lm: LanguageModel, count: int, length: int = 300, temperature: float = 1.0,
                 seed: int | None = None, stop_at: str = DOCUMENT_BREAK,
                 constraint: SamplingConstraint | None = None,
                 should_stop: Callable[[], bool] | None = None) -> list[str]:
    """count independent samples, each from the start of a document, drawn side by side.

    One forward pass per character for the whole batch instead of one per character per
    sample (what ``LanguageModel.generate`` does): many times faster when a page needs a
    pool of texts. A sample ends before its first ``stop_at`` character, or after length.
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
        next_ids = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
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


def _cut_at_first(text: str, stop_at: str) -> str:
    cut = min((i for i in (text.find(c) for c in stop_at) if i >= 0), default=len(text))
    return text[:cut]
