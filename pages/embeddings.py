"""Embedding explorer: words in 3D, their nearest neighbours, analogies, odd one out, similarity,
two models side by side and a fresh t-SNE of one neighbourhood. The view lives in the URL."""

from dataclasses import asdict

import streamlit as st

from app import ui
from app.explorer import link, scenes, space, tools, words
from app.explorer.link import ExplorerView
from app.explorer.space import COLOURINGS, PROJECTIONS, Reprojection
from app.ui import explorer as ui_explorer
from app.ui import gates as ui_gates

MODELS = {m.key: m.label for m in ui.embedding_models()}
COSINE_BAR = st.column_config.ProgressColumn("cosine", min_value=0.0, max_value=1.0, format="%.3f")
IN_BOTH = st.column_config.CheckboxColumn("in both", help="Both models list this neighbour")
PHONE = ui.on_phone()
PLOT_HEIGHT = 330 if PHONE else scenes.PLOT_HEIGHT  # a phone's first screen: the box, the nearest words, the plot


def show_notices(notices):
    for notice in notices:
        (st.warning if notice.level == "warning" else st.info)(words.markdown_safe(notice.text))


def show_ignored(ignored):
    if ignored:
        st.caption(words.markdown_safe("Ignored: " + "; ".join(f"“{word}”: {why}" for word, why in ignored.items())))


def use_word(word):
    st.session_state["explorer_word"] = word
    st.session_state["explorer_zoom"] = True  # the first view shows the whole cloud; a lookup flies in


def use_example():
    chosen = st.session_state.get("analogy_example")
    for example in st.session_state.get("analogy_offered", []):
        if example.label == chosen:
            st.session_state.update(analogy_a=example.a, analogy_b=example.b, analogy_c=example.c)


def start_tools(model_key):
    """The tools' starting values: examples this model gets right (on the first run, and on a switch)."""
    emb = ui.embeddings(model_key)
    first = tools.analogy_examples(emb, model_key)[:1]
    if first:
        st.session_state.update(analogy_a=first[0].a, analogy_b=first[0].b, analogy_c=first[0].c)
    st.session_state["analogy_example"] = first[0].label if first else None
    st.session_state["odd_words"] = tools.first_known(tools.DEFAULT_ODD_ONE_OUT, emb)
    st.session_state.update(zip(("similarity_a", "similarity_b"), tools.first_known(tools.DEFAULT_PAIRS, emb),
                                strict=True))


st.title("Embedding explorer")
st.caption("**Type a word**, or " + ("tap" if PHONE else "click") + " a point: it and its nearest "
           "neighbours (cosine similarity in the model's own space) light up." + (
               "" if PHONE else " The address bar holds this view: copy it to share or bookmark it."))

# The first run of a session takes its view from the link; widgets keep it from then on.
if "explorer_model" not in st.session_state:
    view, link_problems = link.view_from_query(st.query_params.to_dict(), list(MODELS))
    for problem in link_problems:
        st.warning(words.markdown_safe(problem), icon="🔗")
    if PHONE and "projection" not in st.query_params:
        view = link.phone_view(view)  # a flat map a thumb can scroll past
    st.session_state.update({f"explorer_{name}": value for name, value in asdict(view).items()})
    if "word" not in st.query_params:  # a model of one's own may not know the usual opening word
        st.session_state["explorer_word"] = link.starting_word(ui.embeddings(view.model), view.word)
    st.session_state["explorer_zoom"] = False  # the whole coloured cloud first
    start_tools(view.model)
ui_gates.keep_values({"analogy_a": "", "analogy_b": "", "analogy_c": "", "analogy_example": None, "odd_words": "",
                      "similarity_a": "",
                      "similarity_b": "", "explorer_compare": st.session_state["explorer_compare"]})

# A phone's first screen holds the word box, the nearest words and the plot: the model and the
# projection go into the options there, beside the desktop's row of three boxes.
if PHONE:
    word_col = st.container()
    options = st.expander("Model, projection and plot options")
    model_col = projection_col = options
else:
    model_col, projection_col, word_col = st.columns([2, 1.2, 2])
    options = st.expander("Plot options")
model_key = model_col.selectbox("Model", list(MODELS), format_func=MODELS.get, key="explorer_model",
                                on_change=lambda: start_tools(st.session_state["explorer_model"]))
projection = projection_col.selectbox("Projection", list(PROJECTIONS), format_func=PROJECTIONS.get,
                                      key="explorer_projection")
typed = word_col.text_input("Word", key="explorer_word", placeholder=ui_explorer.placeholder(model_key),
                            on_change=lambda: st.session_state.update(explorer_zoom=True))

with options:
    k_col, colour_col, clusters_col = st.columns(3)
    k = k_col.slider("Neighbours", *link.NEIGHBOURS_RANGE, key="explorer_k")
    colour = colour_col.radio("Colour by", list(COLOURINGS), format_func=COLOURINGS.get, key="explorer_colour",
                              horizontal=True)
    clusters = clusters_col.slider("k-means clusters", *link.CLUSTERS_RANGE, key="explorer_clusters",
                                   disabled=colour != "kmeans")
    zoom = st.checkbox("Zoom to the neighbourhood", key="explorer_zoom")
    touch = st.toggle("Touch moves the plot (else a swipe scrolls the page past it)", False,
                      key="explorer_touch") if PHONE else True

emb = ui.embeddings(model_key)
projected = ui_explorer.projected_space(model_key)
query = words.read_query(typed, emb)
show_notices(query.notices)
if query.suggestions:
    for column, suggestion in zip(st.columns(len(query.suggestions)), query.suggestions, strict=True):
        column.button(words.markdown_safe(suggestion), key=f"explorer_suggest_{suggestion}", on_click=use_word,
                      args=(suggestion,))
neighbours = emb.most_similar(query.word, k) if query.word else []
if PHONE and neighbours:  # the top of the list on the first screen, above the plot; the whole table follows it
    st.markdown(f"**Nearest to “{words.markdown_safe(query.word)}”:** "
                + " · ".join(words.markdown_safe(w) for w, _ in neighbours[:4]))

plot_col, list_col = st.columns([5, 2])
with plot_col:
    if projected is None:
        st.info("This model has no stored projection: run `python -m app.training … --only projections`. "
                "The neighbour list and the tools below still work.")
        placed = None
    else:
        highlight = scenes.highlight_for(projected, emb, projection, query.word, neighbours) if query.word else None
        placed = highlight.placed[1:] if highlight else None
        ui_explorer.point_cloud(scenes.explorer_scene(
            ui_explorer.cloud(model_key, projection, colour, clusters), projected.coordinates(projection),
            projected.axis_titles(projection), highlight, zoom, PLOT_HEIGHT, touch), key="explorer_plot",
            on_pick=use_word)
        st.caption(f"{len(projected.words):,} projected words of {len(emb):,}. "
                   f"{space.placement_note(projection)} ◆ marks such a placed word. "
                   + ("Tap a point to name it and look it up." if PHONE else
                      "Drag to turn (3D) or move (2D); click a point to look it up; the legend shows or hides groups."))
with list_col:
    if query.word:
        st.markdown(f"**Nearest to “{query.word}”**")
        st.dataframe(tools.neighbour_rows(neighbours, placed), hide_index=True,
                     column_config={"similarity": COSINE_BAR})

# lazy tabs: a lookup reruns only the tool in view
analogy_tab, odd_tab, similarity_tab, compare_tab, reproject_tab = st.tabs(
    ["Analogy", "Odd one out", "Similarity", "Compare models", "Re-project"], key="explorer_tab",
    on_change="rerun")

if analogy_tab.open:
    with analogy_tab:
        st.markdown("**a − b + c**: the words nearest to the sum of vectors (the inputs themselves left out).")
        offered = tools.analogy_examples(emb, model_key)
        st.session_state["analogy_offered"] = offered
        if offered:
            st.pills("Examples this model gets right", [e.label for e in offered], key="analogy_example",
                     on_change=use_example)
        a_col, b_col, c_col = st.columns(3)
        a = a_col.text_input("a", key="analogy_a")
        b = b_col.text_input("− b", key="analogy_b")
        c = c_col.text_input("+ c", key="analogy_c")
        outcome = tools.analogy(emb, a, b, c)
        if outcome.problem:
            st.warning(outcome.problem)
        else:
            st.success(outcome.answer)
            table_col, figure_col = st.columns([2, 3])
            table_col.dataframe(tools.neighbour_rows(outcome.rows), hide_index=True,
                                column_config={"similarity": COSINE_BAR})
            with figure_col:
                ui_explorer.point_cloud(scenes.analogy_scene(emb, *outcome.inputs, outcome.rows, touch),
                                        key="analogy_plot", on_pick=use_word)
            figure_col.caption("The plane that best fits these words (PCA): the arrow b → a, copied onto c, "
                               "lands on the target ✕; the answers are the words nearest to it.")
        show_ignored(outcome.ignored)

if odd_tab.open:
    with odd_tab:
        listed = st.text_input("Words (spaces or commas)", key="odd_words")
        outcome = tools.odd_one_out(emb, listed)
        if outcome.problem:
            st.warning(outcome.problem)
        else:
            st.success(outcome.answer)
            st.dataframe([{"word": w, "similarity to the mean": round(s, 4)} for w, s in outcome.rows],
                         hide_index=True)
        show_ignored(outcome.ignored)

if similarity_tab.open:
    with similarity_tab:
        first_col, second_col = st.columns(2)
        first = first_col.text_input("First word", key="similarity_a")
        second = second_col.text_input("Second word", key="similarity_b")
        outcome = tools.similarity(emb, first, second)
        if outcome.problem:
            st.warning(outcome.problem)
        else:
            st.success(outcome.answer)
        show_ignored(outcome.ignored)

if compare_tab.open:
    with compare_tab:
        other_key = st.selectbox("Compare with", list(MODELS), format_func=MODELS.get, key="explorer_compare")
        if not query.token:
            st.info("Type a word above to compare its neighbours.")
        elif other_key == model_key:
            st.info("Pick a second model to compare with.")
        else:
            other = ui.embeddings(other_key)
            comparison = tools.compare_neighbours(emb, other, query.token, k)
            if comparison.first and comparison.second:
                st.metric("Neighbours in both lists", f"{len(comparison.shared)} of {k}")
            left, right = st.columns(2)
            for column, rows, label, model in ((left, comparison.first, MODELS[model_key], emb),
                                               (right, comparison.second, MODELS[other_key], other)):
                column.markdown(f"**{label}**")
                if rows is None:
                    message = words.unknown_word_message(model, query.token, model.suggest(query.token))
                    column.warning(words.markdown_safe(message))
                else:
                    column.dataframe(tools.comparison_rows(rows, comparison.shared), hide_index=True,
                                     column_config={"similarity": COSINE_BAR, "in both": IN_BOTH})

if reproject_tab.open:
    with reproject_tab:
        st.markdown("A fresh t-SNE of one word's neighbourhood only: local structure the global layout squeezes. "
                    "Same parameters, same seed, same layout.")
        if not query.word:
            st.info("Type a word above first.")
        elif len(emb) < 100:
            st.info("This vocabulary is too small to re-project.")
        else:
            with st.form("reproject_form"):
                size_col, dims_col = st.columns(2)
                size = size_col.slider("Words (the word and its nearest)", 50, min(2000, len(emb)),
                                       min(500, len(emb)), 50, key="reproject_words")
                dimensions = dims_col.radio("Dimensions", [2, 3], horizontal=True, key="reproject_dimensions")
                perplexity_col, iterations_col, seed_col = st.columns(3)
                perplexity = perplexity_col.slider("Perplexity", 5, 50, 30, key="reproject_perplexity")
                iterations = iterations_col.slider("Iterations", 250, 1000, 500, 50, key="reproject_iterations")
                seed = seed_col.number_input("Seed", 0, 9999, 1, key="reproject_seed")
                run = st.form_submit_button("Run t-SNE")
            params = Reprojection(model_key, query.word, size, dimensions, float(perplexity), iterations, int(seed))
            result = ui_explorer.reprojection(params) if run else ui_explorer.cached_reprojection(params)
            if result is not None:
                local_words, coords = result
                local = scenes.reprojected_highlight(local_words, coords, query.word, neighbours)
                local_cloud = scenes.cloud_layer(f"reprojection/{params}", local_words, coords,
                                                 space.colour_by_category(local_words))
                ui_explorer.point_cloud(scenes.explorer_scene(local_cloud, coords,
                                                              [f"t-SNE {i + 1}" for i in range(dimensions)], local,
                                                              height=scenes.PHONE_PLOT_HEIGHT if PHONE else 520,
                                                              touch=touch), key="reproject_plot", on_pick=use_word)

st.query_params.from_dict(link.view_to_query(ExplorerView(
    model=model_key, projection=projection, word=typed[:words.MAX_QUERY_CHARS], k=k, colour=colour,
    clusters=clusters, compare=st.session_state["explorer_compare"])))
