"""The LSTM's gates, character by character: the char-LSTM's weights run through the textbook equations.

``trace_gates`` runs the very same weights as ``nn.LSTM`` through an explicit LSTM cell, so the
app can show every gate at every character.

    >>> from app.lm.char_lstm import CharLSTM, LMConfig
    >>> layers = trace_gates(CharLSTM(LMConfig(vocab_size=10, hidden_size=8, layers=2)), [1, 2, 3])
    >>> len(layers), layers[0]["forget"].shape
    (2, (3, 8))
"""

from __future__ import annotations

import numpy as np
import torch

from app.lm.char_lstm import CharLSTM

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
