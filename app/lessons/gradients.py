"""Gradient flow through time: why a plain RNN forgets and an LSTM remembers.

We unroll a recurrent net over a random input sequence, read a scalar loss off the LAST hidden
state only, and ask autograd how strongly that loss depends on every earlier hidden state:
‖∂L/∂h_t‖ for t = 0 .. steps-1. In a plain RNN that gradient is a product of one Jacobian per
step, so it shrinks or grows geometrically; the LSTM's additive cell state lets it pass intact.

Everything runs in float64 so vanishing gradients show up as 1e-80, not as a flat zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from app.lessons.memory import COLOURS  # the recall chart's colours: one colour per network on the page

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "linear": lambda z: z,
}
INITS = ("random", "orthogonal", "identity")
INPUT_SIZE = 8  # the input only drives the state; its size does not change the story
DTYPE = torch.float64


@dataclass
class GradientSetup:
    steps: int = 150  # sequence length, 100-200 on the page
    hidden: int = 32
    activation: str = "tanh"  # one of ACTIVATIONS
    init: str = "random"  # one of INITS
    recurrent_scale: float = 1.0  # W_hh is multiplied by this: the knob for vanishing vs exploding
    seed: int = 0
    forget_bias: float = 1.0  # LSTM only: the forget gate's bias, high = remember

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {self.activation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, not {self.init!r}")
        if self.steps < 1 or self.hidden < 1:
            raise ValueError("steps and hidden must be positive")


# -----------------------------------------------------------------------------
# shared pieces: the same inputs and the same readout for both networks, so only the cell differs


def _generator(setup: GradientSetup) -> torch.Generator:
    return torch.Generator().manual_seed(setup.seed)


def _inputs_and_readout(setup: GradientSetup, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = torch.randn(setup.steps, INPUT_SIZE, generator=gen, dtype=DTYPE)
    readout = torch.randn(setup.hidden, generator=gen, dtype=DTYPE) / setup.hidden**0.5
    return inputs, readout


def _recurrent_matrix(setup: GradientSetup, gen: torch.Generator) -> torch.Tensor:
    n = setup.hidden
    if setup.init == "identity":
        w = torch.eye(n, dtype=DTYPE)
    elif setup.init == "orthogonal":
        # QR of a Gaussian matrix gives an orthogonal Q: every singular value is exactly 1
        q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=DTYPE))
        w = q * torch.sign(torch.diagonal(r))  # sign fix makes Q uniformly distributed
    else:
        # 1/sqrt(n) keeps the spectral radius near 1, so recurrent_scale alone sets the regime
        w = torch.randn(n, n, generator=gen, dtype=DTYPE) / n**0.5
    return setup.recurrent_scale * w


def _norms(hidden_states: list[torch.Tensor]) -> np.ndarray:
    return np.array([h.grad.norm().item() for h in hidden_states])


# -----------------------------------------------------------------------------
# plain RNN: h_t = σ(W_hh h_{t-1} + W_hx x_t)


def _rnn_forward(setup: GradientSetup):
    """Unroll the RNN; returns (loss, hidden states with retained grads, parameters)."""
    gen = _generator(setup)
    inputs, readout = _inputs_and_readout(setup, gen)
    w_hh = _recurrent_matrix(setup, gen).requires_grad_()
    w_hx = (torch.randn(setup.hidden, INPUT_SIZE, generator=gen, dtype=DTYPE) / INPUT_SIZE**0.5).requires_grad_()
    act = ACTIVATIONS[setup.activation]

    h = torch.zeros(setup.hidden, dtype=DTYPE)
    states = []
    for x in inputs:
        h = act(w_hh @ h + w_hx @ x)
        h.retain_grad()  # h_t is not a leaf; without this autograd throws its gradient away
        states.append(h)
    loss = readout @ h  # only the last state counts: everything earlier must reach it through time
    return loss, states, [w_hh, w_hx]


def rnn_gradient_norms(setup: GradientSetup) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t of a plain RNN, where L reads only the last hidden state."""
    loss, states, _ = _rnn_forward(setup)
    loss.backward()
    return _norms(states)


# -----------------------------------------------------------------------------
# LSTM: the cell state c_t = f_t * c_{t-1} + i_t * g_t is updated by addition, so the gradient
# back through time is multiplied by the forget gate f_t, not by a squashed weight matrix


def lstm_gradient_norms(setup: GradientSetup) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t of an nn.LSTMCell whose forget gate starts at forget_bias."""
    gen = _generator(setup)
    inputs, readout = _inputs_and_readout(setup, gen)
    cell = torch.nn.LSTMCell(INPUT_SIZE, setup.hidden, dtype=DTYPE)
    n = setup.hidden
    with torch.no_grad():
        bound = 1 / n**0.5  # PyTorch's own init range, but drawn from our generator: reproducible
        for p in cell.parameters():
            p.uniform_(-bound, bound, generator=gen)
        # PyTorch stacks the gates as (input, forget, cell, output): the forget block is [n, 2n)
        cell.bias_ih[n : 2 * n] = setup.forget_bias
        cell.bias_hh[n : 2 * n] = 0.0  # the two biases add up; keep the total exactly forget_bias

    h = torch.zeros(1, n, dtype=DTYPE)
    c = torch.zeros(1, n, dtype=DTYPE)
    states = []
    for x in inputs:
        h, c = cell(x.unsqueeze(0), (h, c))
        h.retain_grad()
        states.append(h)
    loss = h.squeeze(0) @ readout
    loss.backward()
    return _norms(states)


# -----------------------------------------------------------------------------
# exploding gradients: clipping rescales the whole gradient vector, keeping its direction


def clipped_gradient_norms(setup: GradientSetup, threshold: float) -> tuple[float, float]:
    """The RNN's parameter-gradient norm before and after clip_grad_norm_(threshold)."""
    if threshold <= 0:
        raise ValueError("the clip threshold must be positive")
    loss, _, params = _rnn_forward(setup)
    loss.backward()
    before = torch.nn.utils.clip_grad_norm_(params, threshold).item()  # returns the pre-clip norm
    after = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params])).item()
    return before, after


def gradient_figure(rnn_norms: np.ndarray, lstm_norms: np.ndarray):
    """Both gradient curves on one log axis: vanishing is a falling line, exploding a rising one."""
    import plotly.graph_objects as go

    steps = np.arange(len(rnn_norms))
    fig = go.Figure()
    fig.add_scatter(x=steps, y=rnn_norms, mode="lines", name="plain RNN", line={"color": COLOURS["rnn"], "width": 3})
    fig.add_scatter(x=steps, y=lstm_norms, mode="lines", name="LSTM", line={"color": COLOURS["lstm"], "width": 3})
    fig.update_layout(
        xaxis_title="time step t (the loss reads the last one)",
        # 10⁻¹², not Plotly's SI "1p" and "10B": a gradient norm is not in picometres or billions
        yaxis={"title": {"text": "‖∂L/∂hₜ‖"}, "type": "log", "exponentformat": "power"},
        height=440,
        font={"size": 15},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig
