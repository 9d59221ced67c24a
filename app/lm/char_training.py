"""Training the char-LSTM: random batches, the AdamW loop with checkpoints, and validation.

``train`` also trains the word LSTM (``app.lm.wordlm``): nothing in the loop is about characters.

    >>> import numpy as np
    >>> from app.lm.char_lstm import CharLSTM, LMConfig
    >>> ids = np.random.default_rng(0).integers(1, 20, size=2_000)
    >>> model = CharLSTM(LMConfig(vocab_size=20, embedding_size=8, hidden_size=16, layers=1))
    >>> config = TrainConfig(batch_size=4, sequence_length=16, max_steps=3, eval_every=3, eval_batches=1, device="cpu")
    >>> history = train(model, ids, ids, config)  # doctest: +ELLIPSIS
    step 3: train ... val ... nats/char
    >>> history.steps
    [3]
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from app.lm.char_lstm import CharLSTM, model_device


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
          should_stop: Callable[[], bool] | None = None, deadline: float | None = None,
          show_bar: bool = True) -> TrainHistory:
    """AdamW with gradient clipping; validation every eval_every steps. A checkpoint (model,
    optimiser, step, history, RNG state), which a later call resumes from, follows every
    validation, at least every checkpoint_seconds, and a Ctrl-C (KeyboardInterrupt: saved, then
    raised again). Training ends at max_steps, when ``config.minutes`` of training are done in
    all, at ``deadline`` (a time.monotonic() value: this call's wall-clock end), or when
    should_stop() says so; whichever comes first, the last step is validated and saved.
    ``show_bar``: tqdm's bar and a line per validation on stderr (the command line); a page's job
    reports through ``progress`` alone, so a server's log does not grow with every step."""
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

    bar = tqdm(total=config.max_steps, initial=step, desc="char-LSTM", unit="step", disable=not show_bar)
    say = bar.write if show_bar else (lambda _line: None)  # tqdm.write prints even when the bar is off
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
                say(f"step {step}: train {running:.4f}  val {val:.4f} nats/char")
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
        say(f"interrupted: checkpoint at step {step}" if checkpoint is not None else "interrupted")
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


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with this many torch threads (None: leave them), then restore them.
    On a busy 2-core CPU one thread trains 5-30x faster than two fighting for the cores."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
