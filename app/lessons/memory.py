"""Long-range memory: can a small plain RNN and a small LSTM recall the first token after T steps?

The recall task: a sequence starts with one of ``symbols`` tokens, then ``delay`` (T) filler
tokens follow; after reading the whole sequence the network must say which token came first.
Nothing in between helps, so the answer has to survive T state updates. Both networks have the
same hidden size, embedding and readout; only the recurrent cell differs.

    python -m app.lessons.memory [--delays 5,10,...] [--seeds 0,1,2] [--steps N]

precomputes accuracy against T for both cells and several seeds and stores the curves in
``model_store/why-lstm/`` (an .npz plus a manifest entry with sha256, parameters and metrics).
The page draws them and can train one more pair live, a few seconds per model.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from app.lm.char_training import torch_threads
from app.storage import store

CELLS = {"rnn": "plain RNN", "lstm": "LSTM"}
BUNDLE = "why-lstm"
ARTIFACT = "recall-curves"
DELAYS = (5, 10, 20, 30, 40, 50, 70, 100)
SEEDS = (0, 1, 2)
MAX_DELAY = 200  # the page and the CLI refuse longer sequences: training time grows with T
LIVE_MAX_DELAY = 100  # the page's slider: a live pair at T = 100 takes about ten seconds
LIVE_DEFAULT_DELAY = 30  # the page's T: the LSTM is ahead there for every seed checked (tests, README)
LIVE_STEPS = (25, 50, 100, 200)  # the page's step budgets per model; the stored curves used 200


@dataclass
class RecallConfig:
    symbols: int = 8  # the first token is one of these: chance accuracy is 1 / symbols
    fillers: int = 8  # the T tokens after it come from a separate set, so they never look like an answer
    embedding_size: int = 16
    hidden_size: int = 32  # the same for both cells
    batch_size: int = 64
    steps: int = 200  # the training budget: a few seconds per model at T = 50 on one CPU thread
    learning_rate: float = 1e-2
    clip_norm: float = 1.0  # exploding gradients would otherwise wreck the plain RNN at long T
    forget_bias: float = 3.0  # LSTM only: start the forget gate nearly open (σ(3) ≈ 0.95), i.e. remembering
    solved_loss: float = 0.02  # stop early once the mean loss of the last 10 steps is below this
    eval_size: int = 1000  # held-out sequences the accuracy is measured on

    @property
    def chance(self) -> float:
        return 1.0 / self.symbols


@dataclass
class RecallResult:
    cell: str  # a key of CELLS
    delay: int
    seed: int
    accuracy: float  # on eval_size held-out sequences
    steps: int  # training steps actually run: fewer if solved early or should_stop said so
    seconds: float
    losses: list[float] = field(default_factory=list)  # training loss, every step
    stopped: str = "budget"  # why training ended: "budget" (all steps), "solved" or "time"


# -----------------------------------------------------------------------------
# the task


def recall_batch(config: RecallConfig, delay: int, size: int,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences (size, delay + 1) of token ids and their targets (size,): the first token.

    Ids 0 .. symbols-1 are the tokens to recall, symbols .. symbols+fillers-1 the fillers.
    """
    if delay < 0 or delay > MAX_DELAY:
        raise ValueError(f"the delay must be between 0 and {MAX_DELAY} steps, not {delay}")
    first = torch.randint(0, config.symbols, (size, 1), generator=generator)
    fillers = torch.randint(config.symbols, config.symbols + config.fillers, (size, delay), generator=generator)
    return torch.cat([first, fillers], dim=1), first[:, 0]


# -----------------------------------------------------------------------------
# the two networks: embedding -> recurrent cell -> linear readout of the last hidden state


class Recaller(nn.Module):
    def __init__(self, cell: str, config: RecallConfig, generator: torch.Generator):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, not {cell!r}")
        self.embed = nn.Embedding(config.symbols + config.fillers, config.embedding_size)
        recurrent = nn.LSTM if cell == "lstm" else nn.RNN  # nn.RNN is h_t = tanh(W_hh h_{t-1} + W_hx x_t + b)
        self.recurrent = recurrent(config.embedding_size, config.hidden_size, batch_first=True)
        self.readout = nn.Linear(config.hidden_size, config.symbols)
        # PyTorch's own init ranges, drawn from our generator rather than the global one: another
        # visitor's session sampling text in the same process would otherwise change our weights
        bound = 1 / config.hidden_size**0.5
        with torch.no_grad():
            self.embed.weight.normal_(generator=generator)
            for p in [*self.recurrent.parameters(), *self.readout.parameters()]:
                p.uniform_(-bound, bound, generator=generator)
            if cell == "lstm":  # PyTorch orders the gates (input, forget, cell, output)
                n = config.hidden_size
                self.recurrent.bias_ih_l0[n:2 * n] = config.forget_bias
                self.recurrent.bias_hh_l0[n:2 * n] = 0.0

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.recurrent(self.embed(ids))
        return self.readout(out[:, -1])  # only the last step answers


# -----------------------------------------------------------------------------
# training


class RecallRun:
    """One network learning the task, one Adam step at a time (so two can train in lockstep).
    Same seed, same numbers: the data, the initial weights and the held-out set all come from
    generators seeded here."""

    def __init__(self, cell: str, delay: int, config: RecallConfig, seed: int):
        self.cell, self.delay, self.config, self.seed = cell, delay, config, seed
        self.data = torch.Generator().manual_seed(seed)  # first the initial weights, then the batches
        self.model = Recaller(cell, config, self.data)
        self.held_out = torch.Generator().manual_seed(10_000 + seed)  # never overlaps the training stream
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.losses: list[float] = []
        self.seconds = 0.0

    def step(self) -> float:
        started = time.monotonic()
        self.model.train()
        inputs, targets = recall_batch(self.config, self.delay, self.config.batch_size, self.data)
        loss = F.cross_entropy(self.model(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
        self.optimizer.step()
        self.losses.append(round(loss.item(), 4))
        self.seconds += time.monotonic() - started
        return self.losses[-1]

    @property
    def solved(self) -> bool:
        return len(self.losses) >= 10 and np.mean(self.losses[-10:]) < self.config.solved_loss

    def result(self, stopped: str) -> RecallResult:
        accuracy = recall_accuracy(self.model, self.config, self.delay, self.held_out)
        return RecallResult(self.cell, self.delay, self.seed, accuracy, len(self.losses), round(self.seconds, 2),
                            self.losses, stopped)


def train_recall(cell: str, delay: int, config: RecallConfig | None = None, seed: int = 0,
                 progress: Callable[[int, float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> RecallResult:
    """Train one network on the task with this delay for config.steps Adam steps; report accuracy.

    progress(step, loss) is called after every step; should_stop() is asked after every step
    (a page's time cap). It stops early once solved (more steps would only cost the CPU).
    """
    run = RecallRun(cell, delay, config or RecallConfig(), seed)
    stopped = "budget"
    for step in range(1, run.config.steps + 1):
        loss = run.step()
        if progress is not None:
            progress(step, loss)
        if run.solved:
            stopped = "solved"
            break
        if should_stop is not None and should_stop() and step < run.config.steps:
            stopped = "time"
            break
    return run.result(stopped)


@torch.no_grad()
def recall_accuracy(model: Recaller, config: RecallConfig, delay: int, generator: torch.Generator) -> float:
    model.eval()
    inputs, targets = recall_batch(config, delay, config.eval_size, generator)
    return float((model(inputs).argmax(-1) == targets).float().mean())


# One live run at a time per process: the CPU is shared by everyone in the room, and a second
# run would only make both slower. A visitor who finds it busy is told to try again.
LIVE_TRAINING = threading.Lock()
LIVE_SECONDS = 60.0  # a live pair stops here, both at the same step, even if the budget is not spent


class TrainingBusy(RuntimeError):
    """Another live run is going; try again in a few seconds."""


def train_both(delay: int, config: RecallConfig | None = None, seed: int = 0,
               progress: Callable[[float, str], None] | None = None,
               seconds: float | None = None) -> list[RecallResult]:
    """Train the plain RNN and the LSTM on the same task in lockstep, one live run at a time.

    Step k of one is followed by step k of the other, so both always get the same number of steps:
    the time cap (``seconds`` for the pair) or both being solved stops them together, never one
    of them alone. progress(fraction done, what is happening) drives a page's progress bar.
    Raises TrainingBusy while another run holds the lock.
    """
    config = config or RecallConfig()
    if not LIVE_TRAINING.acquire(blocking=False):
        raise TrainingBusy("Another visitor is training right now; try again in a few seconds.")
    try:
        return _lockstep(delay, config, seed, progress, seconds)
    finally:
        LIVE_TRAINING.release()


def _lockstep(delay: int, config: RecallConfig, seed: int, progress, seconds: float | None) -> list[RecallResult]:
    with torch_threads(1):  # tiny nets: a second thread only fights the server for the CPU
        runs = [RecallRun(cell, delay, config, seed) for cell in CELLS]
        out_of_time = _time_cap(seconds)
        stopped = "budget"
        for step in range(1, config.steps + 1):
            losses = [run.step() for run in runs]
            if progress is not None and (step % 10 == 0 or step == config.steps):
                progress(step / config.steps, f"step {step} of {config.steps}: loss " + ", ".join(
                    f"{CELLS[run.cell]} {loss:.3f}" for run, loss in zip(runs, losses, strict=True)))
            if all(run.solved for run in runs):
                stopped = "solved"
                break
            if out_of_time() and step < config.steps:
                stopped = "time"
                break
        return [run.result(stopped) for run in runs]


def _time_cap(seconds: float | None) -> Callable[[], bool]:
    """A should_stop hook that says stop `seconds` after its first call, i.e. after the first step:
    a process's first optimiser takes seconds to import, and that should not eat the budget."""
    deadline = None

    def should_stop() -> bool:
        nonlocal deadline
        now = time.monotonic()
        if deadline is None:
            deadline = now + (seconds if seconds is not None else float("inf"))
        return now > deadline

    return should_stop


def live_summary(results: list[RecallResult]) -> str:
    """How the live pair went, for under the chart: the same steps for both, then each accuracy."""
    steps, stopped = results[0].steps, results[0].stopped
    why = {"solved": "both had solved the task", "budget": "the whole budget",
           "time": "the time cap stopped both at the same step"}[stopped]
    return f"Both trained for {steps} steps ({why}). " + " ".join(
        f"The {CELLS[r.cell]} recalled {r.accuracy:.0%} of held-out sequences at T = {r.delay} ({r.seconds:.1f} s)."
        for r in results)


# -----------------------------------------------------------------------------
# the precomputed curves in the model store


@dataclass
class RecallCurves:
    delays: np.ndarray  # (delays,)
    seeds: np.ndarray  # (seeds,)
    accuracy: dict[str, np.ndarray]  # cell -> (seeds, delays)
    config: RecallConfig

    def mean(self, cell: str) -> np.ndarray:
        return self.accuracy[cell].mean(axis=0)


def precompute(delays=DELAYS, seeds=SEEDS, config: RecallConfig | None = None,
               log: Callable[[str], None] = print) -> RecallCurves:
    config = config or RecallConfig()
    accuracy = {cell: np.zeros((len(seeds), len(delays))) for cell in CELLS}
    for j, delay in enumerate(delays):
        for i, seed in enumerate(seeds):
            for cell in CELLS:
                result = train_recall(cell, delay, config, seed)
                accuracy[cell][i, j] = result.accuracy
                log(f"T={delay:3d} seed {seed} {CELLS[cell]:9s}: accuracy {result.accuracy:.3f} "
                    f"in {result.seconds:.1f}s")
    return RecallCurves(np.array(delays), np.array(seeds), accuracy, config)


def save_curves(curves: RecallCurves, seconds: float) -> dict:
    """Write the .npz and its manifest entry; the card's metrics are the mean curves."""
    path = store.save_arrays(store.bundle_dir(BUNDLE) / f"{ARTIFACT}.npz",
                             delays=curves.delays, seeds=curves.seeds,
                             **{f"accuracy_{cell}": acc for cell, acc in curves.accuracy.items()})
    return store.record_artifact(
        BUNDLE, ARTIFACT, path, kind="recall curves",
        task="recall the first of T + 1 tokens after T filler tokens",
        params={**asdict(curves.config), "delays": curves.delays.tolist(), "seeds": curves.seeds.tolist()},
        seed=curves.seeds.tolist(), training_seconds=round(seconds, 1), torch=torch.__version__,
        metrics={"chance": curves.config.chance,
                 **{f"mean_accuracy_{cell}": [round(float(a), 4) for a in curves.mean(cell)] for cell in CELLS}})


def curves_summary(curves: RecallCurves) -> str:
    """What the stored curves say, in one sentence per cell, from the numbers themselves."""
    sentences = []
    for cell, label in CELLS.items():
        mean = curves.mean(cell)
        held = [int(d) for d, a in zip(curves.delays, mean, strict=True) if a >= 0.9]
        lost = [int(d) for d, a in zip(curves.delays, mean, strict=True) if a < curves.config.chance + 0.1]
        recalls = f"recalls at least 90% up to T = {max(held)}" if held else "never recalls 90%"
        guesses = f"is guessing from T = {min(lost)}" if lost else "stays above guessing throughout"
        sentences.append(f"The {label} {recalls} and {guesses}.")
    return " ".join(sentences)


def load_curves() -> RecallCurves:
    """The stored curves, after the store has checked their sha256 (raises store.StoreError)."""
    arrays = store.load_arrays(store.verified_path(BUNDLE, ARTIFACT))
    card = store.artifact_card(BUNDLE, ARTIFACT)
    params = {k: v for k, v in card["params"].items() if k not in ("delays", "seeds")}
    return RecallCurves(arrays["delays"], arrays["seeds"],
                        {cell: arrays[f"accuracy_{cell}"] for cell in CELLS}, RecallConfig(**params))


# -----------------------------------------------------------------------------
# the chart


COLOURS = {"rnn": "#636efa", "lstm": "#ef553b"}  # plotly's first two, as on the gradient chart


def recall_figure(curves: RecallCurves, live: list[RecallResult] | None = None):
    """Accuracy against T: the mean over seeds as a line, each seed as a faint dot, chance dashed,
    and the visitor's live runs as large diamonds on top."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for cell, label in CELLS.items():
        fig.add_scatter(x=curves.delays, y=curves.mean(cell), mode="lines+markers", name=f"{label} (mean of seeds)",
                        line=dict(color=COLOURS[cell]))
        fig.add_scatter(x=np.tile(curves.delays, len(curves.seeds)), y=curves.accuracy[cell].ravel(),
                        mode="markers", marker=dict(color=COLOURS[cell], opacity=0.35, size=6),
                        name=f"{label}, each seed", showlegend=False, hoverinfo="y")
    for cell, label in CELLS.items():
        mine = [r for r in live or [] if r.cell == cell]
        if mine:
            fig.add_scatter(x=[r.delay for r in mine], y=[r.accuracy for r in mine], mode="markers",
                            marker=dict(color=COLOURS[cell], symbol="diamond", size=15,
                                        line=dict(color="black", width=1.5)),
                            name=f"{label}, your runs", text=[f"seed {r.seed}, {r.steps} steps" for r in mine],
                            hovertemplate="T = %{x}: %{y:.0%}<br>%{text}<extra></extra>")
    fig.add_hline(y=curves.config.chance, line_dash="dash", line_color="grey",
                  annotation_text="chance", annotation_position="bottom right")
    fig.update_layout(xaxis_title="T: steps between the token and the question",
                      yaxis_title="recall accuracy (held-out sequences)", yaxis_range=[0, 1.05],
                      height=420, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02))
    return fig


def loss_figure(results: list[RecallResult], chance: float):
    """Training loss per step of a live run; a flat line at ln(1/chance) is a network still guessing."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in results:
        fig.add_scatter(y=r.losses, x=np.arange(1, len(r.losses) + 1), mode="lines", name=CELLS[r.cell],
                        line=dict(color=COLOURS[r.cell]))
    fig.add_hline(y=float(np.log(1 / chance)), line_dash="dash", line_color="grey",
                  annotation_text=f"guessing: ln {round(1 / chance)}",
                  annotation_position="top right")
    fig.update_layout(xaxis_title="training step", yaxis_title="cross-entropy loss", height=280,
                      margin=dict(l=10, r=10, t=30, b=10))
    return fig


# -----------------------------------------------------------------------------
# python -m app.lessons.memory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", default=",".join(map(str, DELAYS)), help="comma-separated T values")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated seeds")
    parser.add_argument("--steps", type=int, default=RecallConfig.steps, help="training steps per model")
    args = parser.parse_args(argv)
    delays = [int(d) for d in args.delays.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if not all(0 <= d <= MAX_DELAY for d in delays):
        parser.error(f"every delay must be between 0 and {MAX_DELAY}")

    torch.set_num_threads(1)  # small nets gain nothing from threads, and the CPU is shared
    started = time.monotonic()
    curves = precompute(delays, seeds, RecallConfig(steps=args.steps))
    entry = save_curves(curves, time.monotonic() - started)
    print(f"wrote {BUNDLE}/{entry['file']} in {entry['training_seconds']:.0f}s: {entry['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
