"""LSTM gates, live: every gate and state of the character LSTM, redrawn as you type."""

import streamlit as st

from app import ui
from app.lessons import gates
from app.lessons.highlight import pieces_html
from app.lm.gate_trace import GATES
from app.ui import gates as ui_gates

PREFILL = "I ordered the linen wrap dress in a medium (I am 5'6\") and the fit is lovely, but the buttons feel cheap."

PHONE = ui.on_phone()
HEATMAP_WINDOW, GUESS_WINDOW = (gates.PHONE_WINDOW,) * 2 if PHONE else (gates.INITIAL_WINDOW, gates.GUESS_WINDOW)

st.title("LSTM gates, live")
st.markdown(
    "**Type in the box below** and watch the character LSTM read your text: its **input**, **forget** and "
    "**output** gates, the **candidate** memory, the **cell** state and the **hidden** state, one column per "
    "character. Hover over (or tap) any cell for its character and value."
)

with st.sidebar:
    st.header("What to show")
    bundle = st.selectbox("Language model", ui.language_model_bundles(), key="gates_bundle")
    lm = ui_gates.language_model_or_stop(bundle)
    layer_index = st.radio("Layer", list(range(lm.model.config.layers)), format_func=lambda i: f"layer {i + 1}",
                           horizontal=True, key=f"gates_layer_{bundle}")  # models differ in depth
    states = st.multiselect("Gates and states", GATES, default=list(GATES), key="gates_states")
    unit_choice = st.radio("Units", gates.UNIT_CHOICES, key="gates_unit_choice")
    if unit_choice == "by index":
        unit_spec = st.text_input("Unit indices", "0-7, 42", key="gates_unit_indices",
                                  help=f"Numbers and ranges, 0 to {lm.model.config.hidden_size - 1}")
        unit_count, ranked_by = 0, "hidden"
    else:
        unit_spec = ""
        unit_count = st.slider("How many units", 1, 64, 16, key="gates_unit_count")
        ranked_by = st.selectbox("Ranked by", GATES, index=GATES.index("hidden"), format_func=gates.NAMES.get,
                                 key="gates_ranked_by")

typed = st.text_input("Your text (the page updates when you pause typing)", PREFILL, live=True,
                      key="gates_text", placeholder="Type a review…")
limited = gates.limit_text(typed)
if notice := gates.truncation_notice(limited):
    st.warning(notice, icon="✂️")
text = limited.text
if not text:
    st.info("Type some text above to see the gates.")
    st.stop()
if unknown := gates.unknown_characters(lm, text):
    st.info(f"The model never saw {gates.markdown_literal(' '.join(unknown[:12]))}: "
            "it reads each of them as the unknown character.")

trace = ui_gates.gate_trace(bundle, text)
layer = trace.layers[layer_index]
hidden_size = trace.hidden_size
units, rejected = gates.choose_units(layer, unit_choice, unit_count, ranked_by, unit_spec)
if rejected:
    st.warning(f"Not units of this layer (0 to {hidden_size - 1}): {gates.markdown_literal(', '.join(rejected[:10]))}")
if not units:
    st.info(f"Choose at least one unit between 0 and {hidden_size - 1}.")
    st.stop()
cell_unit_key, equation_unit_key = f"gates_cell_unit_{bundle}_{layer_index}", f"gates_equation_unit_{bundle}_{layer_index}"
ui_gates.keep_values({"gates_cell_state": "cell", "gates_find_state": "hidden",
                      cell_unit_key: units[0], equation_unit_key: units[0]})

# lazy tabs: a keystroke redraws only the tab in view (on_change="rerun" makes .open tell which)
heatmap_tab, cell_tab, saturation_tab, equations_tab, find_tab = st.tabs(
    ["Heatmaps", "One cell", "Saturation", "Equations", "Find cells"], key="gates_tab", on_change="rerun")

if heatmap_tab.open:
    with heatmap_tab:
        if states:
            st.caption(f"Showing {ui_gates.window_cue(len(text), HEATMAP_WINDOW)}.")
            st.plotly_chart(ui_gates.readable(gates.heatmap_figure([(g, layer[g]) for g in states], units, text,
                                                                   window=HEATMAP_WINDOW)),
                            key="gates_heatmaps", config=ui.plot_config())
        else:
            st.info("Choose at least one gate or state in the sidebar.")
        st.caption("Gates run from 0 (closed) to 1 (open); candidate and hidden state from −1 to 1; the cell "
                   "state is unbounded. Drag to zoom, double-click to see the whole text.")

if cell_tab.open:
    with cell_tab:
        st.markdown("The text coloured by one unit (Karpathy's cell view): red is high, blue is low. "
                    "Hover over (or tap) a character for the value and the model's guesses for the next one.")
        left, right = st.columns(2)
        cell_state = left.selectbox("State", GATES, format_func=gates.NAMES.get, key="gates_cell_state")
        cell_unit = right.selectbox("Unit", list(range(hidden_size)), key=cell_unit_key)
        guesses = ui_gates.next_char_guesses(bundle, text)
        st.markdown(pieces_html(gates.cell_pieces(text, cell_state, layer[cell_state][:, cell_unit], guesses)),
                    unsafe_allow_html=True)
        st.markdown("**Under each character, the model's top 5 guesses for the next one**")
        st.caption(f"Showing {ui_gates.window_cue(len(text), GUESS_WINDOW)}.")
        st.plotly_chart(ui_gates.readable(gates.guesses_figure(guesses, text, GUESS_WINDOW)), key="gates_guesses",
                        config=ui.plot_config())

if saturation_tab.open:
    with saturation_tab:
        st.markdown("For each unit, how often a gate is nearly shut (< 0.1, x) or wide open (> 0.9, y) over your "
                    "text. Forget gates high up the y-axis keep their memory: they are the long-range units.")
        st.plotly_chart(gates.saturation_figure(layer), key="gates_saturation", config=ui.plot_config())

if equations_tab.open:
    with equations_tab:
        left, right = st.columns([1, 3])
        equation_unit = left.selectbox("Unit", list(range(hidden_size)), key=equation_unit_key)
        position = right.select_slider("Character", list(range(len(text))), value=len(text) - 1,
                                       format_func=lambda t: gates.position_label(text, t),
                                       key=f"gates_equation_position_{len(text)}")
        numbers = gates.equation_numbers(trace, layer_index, equation_unit, position)
        if PHONE:  # one equation a block, each step of its arithmetic a line: nothing runs off the screen
            for equation in gates.narrow_equations_latex(numbers):
                st.latex(equation)
        else:
            st.latex(gates.equations_latex(numbers))
        st.caption("x_t is the character's embedding (layer 1) or the layer below's h_t; "
                   "c_t and h_t are recomputed from the gates above and agree with the traced states.")

if find_tab.open:
    with find_tab:
        st.markdown("Select a span: the units most differently active inside it than outside (LSTMVis' select "
                    "view). Try a word, the inside of brackets, or everything after a comma.")
        left, right = st.columns([1, 3])
        find_state = left.selectbox("State", GATES, format_func=gates.NAMES.get, key="gates_find_state")
        span_start, span_end = right.select_slider(
            "Span", list(range(len(text))), value=gates.default_span(text),
            format_func=lambda t: gates.position_label(text, t), key=f"gates_span_{len(text)}")
        st.markdown(pieces_html(gates.span_pieces(text, span_start, span_end)), unsafe_allow_html=True)
        contrasts = gates.rank_span_units(layer[find_state], span_start, span_end, count=10)
        st.dataframe(gates.contrast_rows(contrasts), hide_index=True, key="gates_find_table")
        best = [c.unit for c in contrasts]
        st.caption(f"Showing {ui_gates.window_cue(len(text), HEATMAP_WINDOW)}.")
        st.plotly_chart(ui_gates.readable(gates.heatmap_figure([(find_state, layer[find_state])], best, text,
                                                               span=(span_start, span_end), window=HEATMAP_WINDOW)),
                        key="gates_find_heatmap", config=ui.plot_config())
