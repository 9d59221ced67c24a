"""Why LSTM? Vanishing and exploding gradients, shown live on a plain RNN next to an LSTM."""

import streamlit as st

from app import gradients
from app.gradients import ACTIVATIONS, INITS, GradientSetup

st.title("Why LSTM?")
st.markdown(
    "A loss that reads only the **last** hidden state must send its gradient back through every "
    "earlier step. In a plain RNN each step multiplies it by a Jacobian, so it shrinks or grows "
    "geometrically; the LSTM's cell state is updated by addition and only scaled by the forget gate."
)

left, right = st.columns(2)
with left:
    st.markdown("**Plain RNN**")
    st.latex(r"h_t = \sigma\left(W_{hh}\, h_{t-1} + W_{hx}\, x_t\right)")
with right:
    st.markdown("**LSTM**")
    st.latex(
        r"\begin{aligned}"
        r"i_t, f_t, o_t &= \mathrm{sigmoid}\left(W [h_{t-1}, x_t] + b\right), \quad "
        r"g_t = \tanh\left(W_g [h_{t-1}, x_t] + b_g\right) \\"
        r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t)"
        r"\end{aligned}"
    )

with st.sidebar:
    st.header("Gradient flow")
    activation = st.selectbox(
        "RNN activation σ", list(ACTIVATIONS), index=list(ACTIVATIONS).index("tanh"), key="why_activation"
    )
    init = st.selectbox("W_hh initialisation", INITS, key="why_init")
    recurrent_scale = st.slider("Recurrent scale (× W_hh)", 0.1, 3.0, 1.0, 0.1, key="why_scale")
    steps = st.slider("Sequence length", 100, 200, 150, 10, key="why_steps")
    forget_bias = st.slider("LSTM forget-gate bias", -3.0, 5.0, 1.0, 0.5, key="why_forget_bias")
    clip_threshold = st.slider("Clip threshold", 0.1, 10.0, 1.0, 0.1, key="why_clip")

setup = GradientSetup(
    steps=steps, activation=activation, init=init, recurrent_scale=recurrent_scale, forget_bias=forget_bias
)
st.subheader("‖∂L/∂hₜ‖ back through time")
fig = gradients.gradient_figure(gradients.rnn_gradient_norms(setup), gradients.lstm_gradient_norms(setup))
st.plotly_chart(fig, key="why_gradient_chart")
st.caption(
    "Read the chart from right to left: it is how much the loss still feels each earlier step. "
    "A falling RNN line is a vanishing gradient (sigmoid, or scale below 1); a rising one is an "
    "exploding gradient (relu or linear with scale above 1); a high forget-gate bias keeps the LSTM flat. "
    "Points that underflow to exactly zero drop off the log axis."
)

st.subheader("Exploding gradients and clipping")
st.markdown(
    "Clipping rescales the whole parameter gradient when its norm passes the threshold: the "
    "direction is kept, the step size is capped. It tames explosion; it cannot revive a vanished gradient."
)
before, after = gradients.clipped_gradient_norms(setup, clip_threshold)
col_before, col_after = st.columns(2)
col_before.metric("Gradient norm before clipping", f"{before:.3g}")
col_after.metric("After clipping", f"{after:.3g}")
