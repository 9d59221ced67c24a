"""Embedding explorer: words in 3D, their nearest neighbours, analogies, odd one out, similarity,
two models side by side and a fresh t-SNE of one neighbourhood. The view lives in the URL."""

from dataclasses import asdict

import streamlit as st

from app import explorer, models, ui, ui_explorer
from app.explorer import COLOURINGS, PROJECTIONS, ExplorerView, Reprojection

MODELS = {m.key: m.label for m in models.embedding_models()}
COSINE_BAR = st.column_config.ProgressColumn("cosine", min_value=0.0, max_value=1.0, format="%.3f")
IN_BOTH = st.column_config.CheckboxColumn("in both", help="Both models list this neighbour")


def show_notices(notices):
    for notice in notices:
        (st.warning if notice.level == "warning" else st.info)(explorer.markdown_safe(notice.text))


def show_ignored(ignored):
    if ignored:
        st.caption(explorer.markdown_safe("Ignored: " + "; ".join(f"“{word}”: {why}" for word, why in ignored.items())))


def use_word(word):
    st.session_state["explorer_word"] = word


st.title("Embedding explorer")
st.caption("Type a word: it and its nearest neighbours (cosine similarity in the model's own space) light up "
           "in the map. The address bar holds this view: copy it to share or bookmark it.")

# The first run of a session takes its view from the link; widgets keep it from then on.
if "explorer_model" not in st.session_state:
    view, link_problems = explorer.view_from_query(st.query_params.to_dict(), list(MODELS))
    for problem in link_problems:
        st.warning(explorer.markdown_safe(problem), icon="🔗")
    st.session_state.update({f"explorer_{name}": value for name, value in asdict(view).items()})
    first_emb = ui.embeddings(view.model)
    if "word" not in st.query_params:  # a model of one's own may not know the usual opening word
        st.session_state["explorer_word"] = explorer.starting_word(first_emb, view.word)
    st.session_state.update(zip(("analogy_a", "analogy_b", "analogy_c"),
                                explorer.first_known(explorer.DEFAULT_ANALOGIES, first_emb), strict=True))
    st.session_state["odd_words"] = explorer.first_known(explorer.DEFAULT_ODD_ONE_OUT, first_emb)
    st.session_state.update(zip(("similarity_a", "similarity_b"),
                                explorer.first_known(explorer.DEFAULT_PAIRS, first_emb), strict=True))

model_col, projection_col, word_col = st.columns([2, 1.2, 2])
model_key = model_col.selectbox("Model", list(MODELS), format_func=MODELS.get, key="explorer_model")
projection = projection_col.selectbox("Projection", list(PROJECTIONS), format_func=PROJECTIONS.get,
                                      key="explorer_projection")
typed = word_col.text_input("Word", key="explorer_word", placeholder="e.g. dress, silk, manolo")

with st.expander("Plot options"):
    k_col, colour_col, clusters_col = st.columns(3)
    k = k_col.slider("Neighbours", *explorer.NEIGHBOURS_RANGE, key="explorer_k")
    colour = colour_col.radio("Colour by", list(COLOURINGS), format_func=COLOURINGS.get, key="explorer_colour",
                              horizontal=True)
    clusters = clusters_col.slider("k-means clusters", *explorer.CLUSTERS_RANGE, key="explorer_clusters",
                                   disabled=colour != "kmeans")
    zoom = st.checkbox("Zoom to the neighbourhood", True, key="explorer_zoom")

emb = ui.embeddings(model_key)
space = ui_explorer.projected_space(model_key)
query = explorer.read_query(typed, emb)
show_notices(query.notices)
if query.suggestions:
    for column, suggestion in zip(st.columns(len(query.suggestions)), query.suggestions, strict=True):
        column.button(explorer.markdown_safe(suggestion), key=f"explorer_suggest_{suggestion}", on_click=use_word,
                      args=(suggestion,))
neighbours = emb.most_similar(query.word, k) if query.word else []

plot_col, list_col = st.columns([5, 2])
with plot_col:
    if space is None:
        st.info("This model has no stored projection: run `python -m app.train … --only projections`. "
                "The neighbour list and the tools below still work.")
        placed = None
    else:
        highlight = explorer.highlight_for(space, emb, projection, query.word, neighbours) if query.word else None
        placed = highlight.placed[1:] if highlight else None
        figure = explorer.explorer_figure(space.words, space.coordinates(projection),
                                          ui_explorer.colouring(model_key, colour, clusters),
                                          space.axis_titles(projection), highlight, zoom,
                                          revision=f"{model_key}/{projection}/{zoom}")
        st.plotly_chart(figure, key="explorer_plot", config={"displaylogo": False})
        st.caption(f"{len(space.words):,} projected words of {len(emb):,}. {explorer.placement_note(projection)} "
                   "◆ marks such a placed word.")
with list_col:
    if query.word:
        st.markdown(f"**Nearest to “{query.word}”**")
        st.dataframe(explorer.neighbour_rows(neighbours, placed), hide_index=True,
                     column_config={"similarity": COSINE_BAR})

analogy_tab, odd_tab, similarity_tab, compare_tab, reproject_tab = st.tabs(
    ["Analogy", "Odd one out", "Similarity", "Compare models", "Re-project"])

with analogy_tab:
    st.markdown("**a − b + c**: the words nearest to the sum of vectors (the inputs themselves left out).")
    a_col, b_col, c_col = st.columns(3)
    a = a_col.text_input("a", key="analogy_a")
    b = b_col.text_input("− b", key="analogy_b")
    c = c_col.text_input("+ c", key="analogy_c")
    outcome = explorer.analogy(emb, a, b, c)
    if outcome.problem:
        st.warning(outcome.problem)
    else:
        st.success(outcome.answer)
        table_col, figure_col = st.columns([2, 3])
        table_col.dataframe(explorer.neighbour_rows(outcome.rows), hide_index=True,
                            column_config={"similarity": COSINE_BAR})
        figure_col.plotly_chart(explorer.analogy_figure(emb, *outcome.inputs, outcome.rows), key="analogy_plot",
                                config={"displaylogo": False})
        figure_col.caption("The plane that best fits these words (PCA): the arrow b → a, copied onto c, "
                           "lands on the target ✕; the answers are the words nearest to it.")
    show_ignored(outcome.ignored)

with odd_tab:
    listed = st.text_input("Words (spaces or commas)", key="odd_words")
    outcome = explorer.odd_one_out(emb, listed)
    if outcome.problem:
        st.warning(outcome.problem)
    else:
        st.success(outcome.answer)
        st.dataframe([{"word": w, "similarity to the mean": round(s, 4)} for w, s in outcome.rows],
                     hide_index=True)
    show_ignored(outcome.ignored)

with similarity_tab:
    first_col, second_col = st.columns(2)
    first = first_col.text_input("First word", key="similarity_a")
    second = second_col.text_input("Second word", key="similarity_b")
    outcome = explorer.similarity(emb, first, second)
    if outcome.problem:
        st.warning(outcome.problem)
    else:
        st.success(outcome.answer)
    show_ignored(outcome.ignored)

with compare_tab:
    other_key = st.selectbox("Compare with", list(MODELS), format_func=MODELS.get, key="explorer_compare")
    if not query.token:
        st.info("Type a word above to compare its neighbours.")
    elif other_key == model_key:
        st.info("Pick a second model to compare with.")
    else:
        other = ui.embeddings(other_key)
        comparison = explorer.compare_neighbours(emb, other, query.token, k)
        if comparison.first and comparison.second:
            st.metric("Neighbours in both lists", f"{len(comparison.shared)} of {k}")
        left, right = st.columns(2)
        for column, rows, label, model in ((left, comparison.first, MODELS[model_key], emb),
                                           (right, comparison.second, MODELS[other_key], other)):
            column.markdown(f"**{label}**")
            if rows is None:
                message = explorer.unknown_word_message(model, query.token, model.suggest(query.token))
                column.warning(explorer.markdown_safe(message))
            else:
                column.dataframe(explorer.comparison_rows(rows, comparison.shared), hide_index=True,
                                 column_config={"similarity": COSINE_BAR, "in both": IN_BOTH})

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
            dimensions = dims_col.radio("Dimensions", [3, 2], horizontal=True, key="reproject_dimensions")
            perplexity_col, iterations_col, seed_col = st.columns(3)
            perplexity = perplexity_col.slider("Perplexity", 5, 50, 30, key="reproject_perplexity")
            iterations = iterations_col.slider("Iterations", 250, 1000, 500, 50, key="reproject_iterations")
            seed = seed_col.number_input("Seed", 0, 9999, 1, key="reproject_seed")
            run = st.form_submit_button("Run t-SNE")
        params = Reprojection(model_key, query.word, size, dimensions, float(perplexity), iterations, int(seed))
        result = ui_explorer.reprojection(params) if run else ui_explorer.cached_reprojection(params)
        if result is not None:
            words, coords = result
            local = explorer.reprojected_highlight(words, coords, query.word, neighbours)
            st.plotly_chart(explorer.explorer_figure(words, coords, explorer.colour_by_category(words),
                                                     [f"t-SNE {i + 1}" for i in range(dimensions)], local),
                            key="reproject_plot", config={"displaylogo": False})

st.query_params.from_dict(explorer.view_to_query(ExplorerView(
    model=model_key, projection=projection, word=typed[:explorer.MAX_QUERY_CHARS], k=k, colour=colour,
    clusters=clusters, compare=st.session_state["explorer_compare"])))
