"""Why LSTM? Vanishing and exploding gradients on a plain RNN next to an LSTM, then long-range memory."""

import streamlit as st

from app import ui
from app.lessons import gradients, memory, reach
from app.lessons.gradients import ACTIVATIONS, INITS, GradientSetup
from app.lessons.highlight import Piece, pieces_html
from app.storage import store
from app.ui import why_lstm as ui_why_lstm


def use_reach_example():
    if chosen := st.session_state.get("why_example"):
        st.session_state["why_context"] = reach.EXAMPLES[chosen][0]


st.title("Why LSTM?")
st.markdown("**Move the sliders** and watch the gradient vanish or explode, in a plain RNN and in an LSTM.")

activation_col, scale_col = st.columns(2)
activation = activation_col.selectbox(
    "RNN activation σ", list(ACTIVATIONS), index=list(ACTIVATIONS).index("tanh"), key="why_activation"
)
recurrent_scale = scale_col.slider("Recurrent scale (× W_hh)", 0.1, 3.0, 1.0, 0.1, key="why_scale")
with st.expander("More settings: initialisation, length, forget-gate bias, clipping"):
    init = st.selectbox("W_hh initialisation", INITS, key="why_init")
    steps = st.slider("Sequence length", 100, 200, 150, 10, key="why_steps")
    forget_bias = st.slider("LSTM forget-gate bias", -3.0, 5.0, 1.0, 0.5, key="why_forget_bias")
    clip_threshold = st.slider("Clip threshold", 0.1, 10.0, 1.0, 0.1, key="why_clip")

setup = GradientSetup(
    steps=steps, activation=activation, init=init, recurrent_scale=recurrent_scale, forget_bias=forget_bias
)
st.markdown("**‖∂L/∂hₜ‖ back through time**")
fig = gradients.gradient_figure(gradients.rnn_gradient_norms(setup), gradients.lstm_gradient_norms(setup))
ui_why_lstm.show_chart(fig, "why_gradient_chart")
st.caption(
    "Read the chart from right to left: it is how much the loss still feels each earlier step. "
    "A falling RNN line is a vanishing gradient (sigmoid, or scale below 1); a rising one is an "
    "exploding gradient (relu or linear with scale above 1); a high forget-gate bias keeps the LSTM flat. "
    "Points that underflow to exactly zero drop off the log axis."
)
st.markdown(
    "A loss that reads only the **last** hidden state must send its gradient back through every "
    "earlier step. In a plain RNN each step multiplies it by a Jacobian, so it shrinks or grows "
    "geometrically; the LSTM's cell state is updated by addition and only scaled by the forget gate."
)

# KaTeX draws subscripts 2 px past the end of a formula, which made each one a scrolling box that a
# keyboard cannot reach (axe: scrollable-region-focusable): the padding gives that overhang room.
st.html("<style>.katex-display > .katex { padding-right: 2px; }</style>")
left, right = st.columns(2)
with left:
    st.markdown("**Plain RNN**")
    st.latex(r"h_t = \sigma\left(W_{hh}\, h_{t-1} + W_{hx}\, x_t\right)")
with right:
    st.markdown("**LSTM**")
    st.latex(
        r"\begin{aligned}"
        r"z_t &= W [h_{t-1}, x_t] + b \\"  # rows short enough for half a projector, or a phone: no scrolling
        r"i_t, f_t, o_t &= \mathrm{sigmoid}(z_t) \\"
        r"g_t &= \tanh\left(W_g [h_{t-1}, x_t] + b_g\right) \\"
        r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\"
        r"h_t &= o_t \odot \tanh(c_t)"
        r"\end{aligned}"
    )

st.header("Exploding gradients and clipping")  # h2, as "Long-range memory": no level skipped
st.markdown(
    "Clipping rescales the whole parameter gradient when its norm passes the threshold: the "
    "direction is kept, the step size is capped. It tames explosion; it cannot revive a vanished gradient."
)
before, after = gradients.clipped_gradient_norms(setup, clip_threshold)
col_before, col_after = st.columns(2)
col_before.metric("Gradient norm before clipping", f"{before:.3g}")
col_after.metric("After clipping", f"{after:.3g}")

st.header("Long-range memory")
st.markdown(
    "The gates are there so that something read long ago can still decide what comes next. "
    "Two ways to see whether it does: the real character LSTM of the fashion reviews, and a tiny "
    "task that nothing but memory can solve."
)

st.subheader("How far back does the char-LSTM read?")
st.markdown(
    "**Pick an example**, then move the slider: the model guesses the next word after the context, and again "
    "after only its last *N* characters. A guess that only the whole context supports was carried from "
    "further back in the LSTM's cell state. This model reads about 15–30 characters back; edit the context to "
    "try your own."
)


st.session_state.setdefault("why_context", reach.DEFAULT_CONTEXT)
st.pills("Examples", list(reach.EXAMPLES), key="why_example", on_change=use_reach_example,
         default=next(iter(reach.EXAMPLES)))
context_text = st.text_area("Context", height=80, key="why_context")
keep = st.slider("Keep only the last N characters", 0, 200, reach.DEFAULT_KEEP, 5, key="why_cut")
try:
    lm = ui.language_model(reach.LM_BUNDLE)
except store.StoreError as error:
    st.error(f"The language model could not be loaded: {error}")
    lm = None
if lm is not None:
    context = reach.check_context(context_text, lm)
    for note in context.notes:
        st.info(note)
    if context.text:
        comparison = ui_why_lstm.compare_contexts(reach.LM_BUNDLE, context.text, keep)
        st.markdown(pieces_html([Piece(comparison.dropped, "#e8e8e8", "cut away"),
                                 Piece(comparison.kept, "#fff3a3", f"the last {len(comparison.kept)} characters")]),
                    unsafe_allow_html=True)
        changed = comparison.biggest_change
        st.markdown(f"Grey: cut away. Yellow: what the cut model still reads. **“{changed['word']}”**: "
                    f"{changed['whole context']:.1%} with the whole context, {changed['last N characters']:.1%} "
                    f"with the last {len(comparison.kept)} characters (×{changed['change']:.2f}).")
        top = comparison.highest
        st.dataframe(
            comparison.rows, hide_index=True, key="why_guesses",
            column_config={
                "word": st.column_config.TextColumn("next word"),
                "whole context": st.column_config.ProgressColumn("P, whole context", format="%.3f", min_value=0.0,
                                                                 max_value=top),
                "last N characters": st.column_config.ProgressColumn(f"P, last {len(comparison.kept)} characters",
                                                                     format="%.3f", min_value=0.0, max_value=top),
                "change": st.column_config.NumberColumn("cut / whole", format="×%.2f"),
            },
        )
        st.caption("The union of both top-5 lists, each word with its probability under both contexts. "
                   "A ratio far from ×1 means the cut-away text mattered for that word.")
        ui_why_lstm.show_chart(ui_why_lstm.reach_figure(reach.LM_BUNDLE, context.text,
                                                        tuple(row["word"] for row in comparison.rows[:4]), keep),
                               "why_reach_chart")
        st.caption("The whole context's top guesses as the model reads more and more of the context's end. "
                   "Where a line stops moving, older text no longer changes that guess: that is how far back "
                   "the model reads for it.")

st.subheader("A task only memory can solve: recall the first token")
st.markdown(
    f"Each sequence starts with one of {memory.RecallConfig.symbols} tokens, then *T* random filler tokens; "
    "after the last one the network must say which token came first. A plain RNN and an LSTM of the same "
    f"size ({memory.RecallConfig.hidden_size} hidden units, same embedding and readout) each train for "
    f"{memory.RecallConfig.steps} steps of {memory.RecallConfig.batch_size} sequences: a few seconds."
)
st.latex(  # one short formula per line: an equation wider than a phone would need its own scrolling
    r"x_0 \in \{1,\dots,8\},\quad x_1,\dots,x_T \sim \text{fillers}"
)
st.latex(r"\hat{y} = \operatorname{softmax}(W_y\, h_T), \quad \text{target } y = x_0")
st.latex(
    r"\text{RNN: } \frac{\partial h_T}{\partial h_0} = \prod_{t=1}^{T} \operatorname{diag}\!\left(1 - h_t^2\right) W_{hh}"
)
st.latex(r"\text{LSTM: } \frac{\partial c_T}{\partial c_0} \approx \prod_{t=1}^{T} \operatorname{diag}(f_t)")
try:
    curves = ui_why_lstm.recall_curves()
except store.StoreError as error:
    st.error(f"The precomputed curves could not be loaded: {error}")
    curves = None

delay_col, seed_col, steps_col, button_col = st.columns([3, 1, 2, 1], vertical_alignment="bottom")
delay = delay_col.slider("T for your run", 5, memory.LIVE_MAX_DELAY, memory.LIVE_DEFAULT_DELAY, 5, key="why_recall_delay")
seed = seed_col.number_input("Seed", 0, 999, 0, key="why_recall_seed")
steps = steps_col.select_slider("Steps (the same for both)", memory.LIVE_STEPS, memory.RecallConfig.steps,
                                key="why_recall_steps")
runs = st.session_state.setdefault("why_recall_runs", [])  # this visitor's live runs, drawn as diamonds
if button_col.button("Train both", type="primary", key="why_recall_train"):
    bar = st.progress(0.0, text="Starting…")
    try:
        runs.extend(ui_why_lstm.train_both(delay, int(seed), steps, bar.progress))
    except memory.TrainingBusy as busy:
        st.info(str(busy), icon="⏳")
    bar.empty()

if curves is not None:
    ui_why_lstm.show_chart(ui_why_lstm.recall_figure(runs), "why_recall_chart")
    st.caption(
        f"Lines: the mean over {len(curves.seeds)} seeds; dots: each seed; dashed: guessing. "
        f"{memory.curves_summary(curves)} The plain RNN's gradient vanishes on the way back to the first "
        "token, as in the first chart; the LSTM's forget gate starts nearly open, so its cell state carries "
        "the token. Your runs land as diamonds. With a stored point's seed and steps a run lands on or near its "
        "dot: the server's thread count changes the rounding, and training near the limit can amplify it."
    )
if runs:
    latest = runs[-len(memory.CELLS):]
    for column, result in zip(st.columns(len(latest)), latest, strict=True):
        column.metric(f"{memory.CELLS[result.cell]}, T = {result.delay}", f"{result.accuracy:.0%}",
                      help=f"{result.steps} steps in {result.seconds:.1f} s, seed {result.seed}")
    st.caption(memory.live_summary(latest))
    ui_why_lstm.show_chart(memory.loss_figure(latest, memory.RecallConfig().chance), "why_recall_loss_chart")
    st.caption("Your latest run's training loss. A network that cannot reach the first token stays on the "
               "dashed line: it has learnt only that every answer is equally likely.")
    if st.button("Clear my runs", key="why_recall_clear"):
        runs.clear()
        st.rerun()
