"""The embedding explorer: its readers, placements, plot scenes and URL view as functions, then the
page through AppTest (typing, switching models, the tools, bad input, bad links).

Uses the committed wiki-sample and fashion models and GloVe, which are always there."""

import base64
import json
import random

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.explorer import link, scenes, space, tools, words
from app.explorer.link import ExplorerView
from app.explorer.space import ProjectedSpace, Reprojection
from tests.conftest import ROOT

PAGE = str(ROOT / "pages/embeddings.py")
TEN_KB = "dress " * 1707  # 10,242 characters
BAD_INPUTS = ["", "   ", "kingg", "red dress", "!!!", "👗✨", "<script>alert(1)</script>", TEN_KB, "ﷺ" * 50,
              "$$ ** ` [x](javascript:alert(1))"]


@pytest.fixture(scope="module")
def glove():
    emb = models.load_embeddings("glove")
    _ = emb.unit
    return emb


@pytest.fixture(scope="module")
def wiki():
    return models.load_embeddings("wiki-sample/skipgram")


@pytest.fixture(scope="module")
def wiki_space(wiki):
    return ProjectedSpace.build(wiki, models.load_projections("wiki-sample/skipgram"))


def sent(scene: dict) -> dict:
    """The scene as the browser gets it: through JSON (a NaN or a numpy number would fail here)."""
    return json.loads(json.dumps(scene, allow_nan=False))


def decoded(base64_text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(base64_text), dtype=dtype)


def neighbour_words(emb, word, k=10):
    return [w for w, _ in emb.most_similar(word, k)]


# ---------------------------------------------------------------- reading what people type

def test_a_plain_word_is_found_with_case_and_punctuation_dropped(wiki):
    query = words.read_query("  King!  ", wiki)
    assert query.word == "king" and not query.notices


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_query_asks_for_a_word(wiki, text):
    query = words.read_query(text, wiki)
    assert query.word is None
    assert [n.level for n in query.notices] == ["info"]


@pytest.mark.parametrize("text", ["!!!", "👗✨", "— … ·"])
def test_punctuation_and_emoji_are_not_words(wiki, text):
    query = words.read_query(text, wiki)
    assert query.word is None
    assert "No word" in query.notices[0].text


def test_unknown_word_comes_with_suggestions(wiki):
    query = words.read_query("kingg", wiki)
    assert query.word is None
    assert "king" in query.suggestions
    assert "not in the" in query.notices[0].text


def test_several_words_look_up_the_first_and_say_so(wiki):
    query = words.read_query("king queen prince", wiki)
    assert query.word == "king"
    assert "queen" in query.notices[0].text and "One word at a time" in query.notices[0].text


def test_html_tags_are_left_out_of_the_search(wiki):
    query = words.read_query("<b>kingg</b>", wiki)
    assert query.word is None and "king" in query.suggestions
    assert "HTML tags" in query.notices[0].text
    assert words.read_word_list("<i>king</i>, <script>queen</script>", wiki).words == ["king", "queen"]


def test_ten_kilobytes_of_text_reads_one_word(wiki):
    query = words.read_query("king " * 2048, wiki)
    assert query.word == "king"
    assert query.notices[0].level == "warning" and "10,240 characters" in query.notices[0].text


def test_word_list_sets_aside_unknown_repeated_and_non_words(wiki):
    found = words.read_word_list("king, queen king 👑 kingg", wiki)
    assert found.words == ["king", "queen"]
    assert found.ignored["king"] == "repeated"
    assert "no letters" in found.ignored["👑"]
    assert "did you mean" in found.ignored["kingg"] and "king" in found.ignored["kingg"]


def test_markdown_safe_shows_symbols_literally():
    assert words.markdown_safe("$$ *a* `b` [c](d)") == r"\$\$ \*a\* \`b\` \[c\]\(d\)"


def test_word_list_reads_at_most_its_limit(wiki):
    found = words.read_word_list(TEN_KB, wiki, limit=5)
    assert found.words == []  # "dress" is not in the Wikipedia sample
    assert any("only the first 5 words" in why for why in found.ignored.values())


# ---------------------------------------------------------------- the tools

def test_analogy_king_man_woman_is_queen_and_inputs_are_reported(glove):
    outcome = tools.analogy(glove, "king", "man", "Woman")
    assert outcome.problem is None
    assert outcome.rows[0][0] == "queen"
    assert set(outcome.ignored) == {"king", "man", "woman"}
    assert {w for w, _ in outcome.rows}.isdisjoint({"king", "man", "woman"})


def test_analogy_scene_draws_the_parallelogram(glove):
    outcome = tools.analogy(glove, "king", "man", "woman")
    scene = sent(scenes.analogy_scene(glove, *outcome.inputs, outcome.rows))
    marks = scene["marks"]
    assert [m["word"] for m in marks] == ["king", "man", "woman", *(w for w, _ in outcome.rows), "target"]
    assert all(m["label"] == "normal" for m in marks) and scene["cloud"] is None and scene["dims"] == 2
    assert [m["pick"] for m in marks][-1] is False  # "target" is not a word to look up
    # the arrows man → king and woman → target
    assert [(link["from"], link["to"], link["arrow"]) for link in scene["links"]] == \
        [(1, 0, True), (2, len(marks) - 1, True)]


def test_analogy_with_an_unknown_word_says_which_and_suggests(glove):
    outcome = tools.analogy(glove, "king", "womann", "")
    assert outcome.rows == [] and "b" in outcome.problem and "c" in outcome.problem
    assert "did you mean" in outcome.ignored["womann"]


def test_analogy_extra_words_in_a_box_are_ignored(glove):
    outcome = tools.analogy(glove, "king queen", "man", "woman")
    assert outcome.rows and "takes one word" in outcome.ignored["queen"]


def test_odd_one_out(glove):
    outcome = tools.odd_one_out(glove, "breakfast, lunch, dinner, cereal, 🍳")
    assert "cereal" in outcome.answer
    assert [w for w, _ in outcome.rows][-1] == "cereal"
    assert "🍳" in outcome.ignored


def test_odd_one_out_needs_three_known_words(glove):
    outcome = tools.odd_one_out(glove, "silk satinn")
    assert outcome.problem and "three" in outcome.problem
    assert "satinn" in outcome.ignored


def test_similarity_gives_the_neighbour_rank(glove):
    outcome = tools.similarity(glove, "silk", "satin")
    score = glove.similarity("silk", "satin")
    rank = neighbour_words(glove, "silk", 50).index("satin") + 1
    assert outcome.rows == [("satin", pytest.approx(score))]
    assert f"#{rank}" in outcome.answer


def test_compare_marks_the_shared_neighbours(wiki):
    cbow = models.load_embeddings("wiki-sample/cbow")
    comparison = tools.compare_neighbours(wiki, cbow, "king", 10)
    assert [w for w, _ in comparison.first] == neighbour_words(wiki, "king")
    assert [w for w, _ in comparison.second] == neighbour_words(cbow, "king")
    assert comparison.shared == set(neighbour_words(wiki, "king")) & set(neighbour_words(cbow, "king"))


def test_compare_with_a_word_one_model_lacks(wiki, glove):
    comparison = tools.compare_neighbours(glove, wiki, "blahnik", 5)
    assert comparison.first and comparison.second is None and comparison.shared == set()


def test_default_comparison_pairs_skipgram_with_cbow():
    keys = [m.key for m in models.embedding_models()]
    assert tools.default_comparison("wiki-sample/skipgram", keys) == "wiki-sample/cbow"
    assert tools.default_comparison("glove", keys) != "glove"


# ---------------------------------------------------------------- placing words

def test_stored_words_keep_their_coordinates(wiki, wiki_space):
    words = wiki_space.words[:5]
    coords, placed = wiki_space.positions(words, wiki, "tsne3")
    assert placed == [False] * 5
    np.testing.assert_array_equal(coords, wiki_space.coordinates("tsne3")[:5])


def test_pca_places_any_word_exactly(wiki, wiki_space):
    # a projected word run through the placement must land on its stored PCA coordinates
    coords = wiki_space.place(wiki_space.vectors[:20], "pca3")
    np.testing.assert_allclose(coords, wiki_space.coordinates("pca3")[:20], atol=1e-3)
    np.testing.assert_allclose(wiki_space.place(wiki_space.vectors[:3], "pca2"),
                               wiki_space.coordinates("pca2")[:3], atol=1e-3)


def test_tsne_places_an_outside_word_among_its_projected_neighbours(wiki, wiki_space):
    outside = next(w for w in reversed(wiki.words) if w not in wiki_space.position)
    coords, placed = wiki_space.positions([outside], wiki, "tsne2")
    assert placed == [True]
    scores = wiki_space.vectors @ wiki.unit[wiki.index[outside]]
    nearest = wiki_space.coordinates("tsne2")[np.argsort(-scores)[:space.PLACEMENT_NEIGHBOURS]]
    assert np.all(coords[0] >= nearest.min(axis=0) - 1e-4) and np.all(coords[0] <= nearest.max(axis=0) + 1e-4)


def test_axis_titles_give_pca_variance(wiki_space):
    titles = wiki_space.axis_titles("pca2")
    assert len(titles) == 2 and "% of variance" in titles[0]
    assert wiki_space.axis_titles("tsne3") == ["t-SNE 1", "t-SNE 2", "t-SNE 3"]


# ---------------------------------------------------------------- colouring and the plot's scenes

def test_category_colouring_names_fashion_words():
    colouring = space.colour_by_category(["dress", "silk", "navy", "zebra"])
    assert colouring.groups == ["garments", "fabrics", "colours", "other"]
    assert list(colouring.colours) == ["garments", "fabrics", "colours", "other"]


def test_kmeans_colouring_has_k_named_groups_and_is_repeatable(wiki_space):
    words, vectors = wiki_space.words[:400], wiki_space.vectors[:400]
    first = space.colour_by_kmeans(words, vectors, 6)
    assert len(first.colours) == 6 and set(first.groups) == set(first.colours)
    assert space.colour_by_kmeans(words, vectors, 6).groups == first.groups


@pytest.mark.parametrize("projection", ["tsne3", "pca3", "tsne2", "pca2"])
def test_scene_marks_exactly_the_query_and_its_neighbours(wiki, wiki_space, projection):
    neighbours = wiki.most_similar("king", 7)
    highlight = scenes.highlight_for(wiki_space, wiki, projection, "king", neighbours)
    colouring = space.colour_by_category(wiki_space.words)
    coords = wiki_space.coordinates(projection)
    cloud = scenes.cloud_layer("wiki/" + projection, wiki_space.words, coords, colouring)
    scene = sent(scenes.explorer_scene(cloud, coords, wiki_space.axis_titles(projection), highlight, zoom=True))
    dims = 3 if projection.endswith("3") else 2
    assert scene["dims"] == dims and len(scene["axes"]) == dims
    marks = scene["marks"]
    assert [m["word"] for m in marks] == ["king", *(w for w, _ in neighbours)]  # hover, click
    assert [m["word"] for m in marks if m["label"]] == ["king", *(w for w, _ in neighbours)]  # projector: all
    small = sent(scenes.explorer_scene(cloud, coords, wiki_space.axis_titles(projection), highlight, zoom=True,
                                       height=scenes.PHONE_PLOT_HEIGHT))
    labelled = scenes.LABELLED_NEIGHBOURS
    assert [m["word"] for m in small["marks"] if m["label"]] == ["king", *(w for w, _ in neighbours[:labelled])]
    assert np.array([m["at"] for m in marks]) == pytest.approx(highlight.coords, abs=1e-4)
    assert marks[1]["tip"].startswith(f"cosine {neighbours[0][1]:.3f}")
    assert [m["shape"] == "diamond" for m in marks] == highlight.placed  # placed, not projected
    assert [(link["from"], link["to"]) for link in scene["links"]] == [(0, i) for i in range(1, 8)]
    whole_cloud = sent(scenes.explorer_scene(cloud, coords, wiki_space.axis_titles(projection), highlight))
    assert [m["word"] for m in whole_cloud["marks"] if m["label"]] == ["king"]  # from afar, only the query
    assert whole_cloud["focus"] is None and whole_cloud["faded"] is False  # the first view: every colour
    assert scene["faded"] is True  # zoomed in, the cloud steps back behind the neighbourhood
    # every projected word, in place, in its group
    sent_cloud = scene["cloud"]
    assert sent_cloud["words"] == wiki_space.words
    assert decoded(sent_cloud["xyz"], "<f4").reshape(-1, dims) == pytest.approx(coords)
    names = [g["name"] for g in sent_cloud["groups"]]
    assert names == list(colouring.colours)
    assert [names[i] for i in decoded(sent_cloud["group"], "u1")] == colouring.groups


def test_scene_without_a_query_has_only_the_cloud(wiki_space):
    coords = wiki_space.coordinates("tsne3")
    cloud = scenes.cloud_layer("wiki", wiki_space.words, coords, space.colour_by_category(wiki_space.words))
    scene = sent(scenes.explorer_scene(cloud, coords, wiki_space.axis_titles("tsne3")))
    assert scene["marks"] == [] and scene["links"] == [] and scene["faded"] is False
    assert f"{len(wiki_space.words):,} words" in scene["description"]


def test_zoom_frames_the_neighbourhood(wiki, wiki_space):
    highlight = scenes.highlight_for(wiki_space, wiki, "tsne2", "king", wiki.most_similar("king", 5))
    coords = wiki_space.coordinates("tsne2")
    focus = scenes.explorer_scene(None, coords, ["a", "b"], highlight, zoom=True)["focus"]
    assert focus["centre"] == pytest.approx(highlight.coords[0].tolist(), abs=1e-3)
    inside = (np.abs(highlight.coords - highlight.coords[0]) <= focus["half"]).all(axis=1)
    assert inside.sum() >= 4  # the query and at least the nearer half of its neighbours
    assert focus["half"] < 0.5 * (coords.max(axis=0) - coords.min(axis=0)).max()  # closer than the whole cloud


def test_placed_neighbours_are_marked_in_the_table(wiki, wiki_space):
    outside = next(w for w in reversed(wiki.words) if w not in wiki_space.position)
    rows = tools.neighbour_rows([(outside, 0.5)], [True])
    assert rows == [{"#": 1, "word": outside, "similarity": 0.5, "category": "other", "in the plot": "placed"}]


def test_reprojection_of_a_neighbourhood(wiki):
    seen = []
    params = Reprojection("wiki-sample/skipgram", "king", words=80, dimensions=2, iterations=250, seed=3)
    words, coords = space.reproject(wiki, params, progress=seen.append)
    assert words[0] == "king" and words[1:11] == neighbour_words(wiki, "king")
    assert coords.shape == (80, 2) and np.all(np.isfinite(coords))
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    _, again = space.reproject(wiki, params)
    np.testing.assert_allclose(again, coords)  # same parameters and seed, same layout


# ---------------------------------------------------------------- the view in the URL

MODEL_KEYS = [m.key for m in models.embedding_models()]


def test_a_view_survives_the_round_trip_through_a_link():
    view = ExplorerView(model="glove", projection="pca2", word="manolo", k=7, colour="kmeans", clusters=5,
                        compare="wiki-sample/cbow")
    params = link.view_to_query(view)
    assert params["model"] == "glove" and params["word"] == "manolo" and params["projection"] == "pca2"
    assert link.view_from_query(params, MODEL_KEYS) == (view, [])


def test_an_empty_link_gives_the_default_view():
    view, notices = link.view_from_query({}, MODEL_KEYS)
    assert view == link.default_view(MODEL_KEYS) and notices == []
    assert view.word and view.compare != view.model


def test_starting_word_falls_back_to_a_frequent_word(wiki):
    assert link.starting_word(wiki, "king") == "king"
    assert link.starting_word(wiki, "dress") == wiki.most_frequent(1)[0]  # no "dress" in the Wikipedia sample


@pytest.mark.parametrize("params, field", [
    ({"model": "nope"}, "model"), ({"projection": "umap"}, "projection"), ({"k": "abc"}, "k"),
    ({"k": "999"}, "k"), ({"k": "-3"}, "k"), ({"k": "²"}, "k"), ({"clusters": "1e9"}, "clusters"),
    ({"colour": "<script>"}, "colour"), ({"compare": "👗"}, "compare"), ({"word": "x" * 10_000}, "word"),
])
def test_bad_link_values_fall_back_with_a_notice(params, field):
    view, notices = link.view_from_query(params, MODEL_KEYS)
    assert len(notices) == 1 and field in notices[0]
    default = link.default_view(MODEL_KEYS)
    if field == "word":
        assert view.word == "x" * words.MAX_QUERY_CHARS
    else:
        assert getattr(view, field) == getattr(default, field)


def test_random_links_never_raise():
    rng = random.Random(0)
    alphabet = "abc09-_/ %<>&👗²\x00\u202e"
    for _ in range(300):
        params = {name: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
                  for name in rng.sample(["model", "projection", "word", "k", "colour", "clusters", "compare"], 4)}
        view, _ = link.view_from_query(params, MODEL_KEYS)
        assert view.model in MODEL_KEYS and view.projection in space.PROJECTIONS


# ---------------------------------------------------------------- the page

def tables(at, kind):
    """The page's tables of one kind, told apart by their columns."""
    columns = {"neighbours": "in the plot", "odd": "similarity to the mean", "compare": "in both"}
    found = [df.value for df in at.dataframe]
    if kind == "analogy":
        return [t for t in found if list(t.columns) == ["word", "similarity", "#", "category"]]
    return [t for t in found if columns[kind] in t.columns]


def table(at, kind):
    return tables(at, kind)[0]


PLOTS = ("explorer_plot", "analogy_plot", "reproject_plot")


def charts(at) -> dict[str, dict]:
    """The page's point-cloud plots by key, each with the scene it was sent."""
    found = {}
    for element in at.get("bidi_component"):
        key = next((k for k in PLOTS if element.proto.id.endswith(k)), None)
        if key:
            found[key] = json.loads(element.proto.json)
    return found


def page(**query):
    at = AppTest.from_file(PAGE, default_timeout=90)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_opens_on_dress_and_lists_its_neighbours():
    at = page()
    fashion = models.load_embeddings("fashion-reviews/skipgram")
    assert at.title[0].value == "Embedding explorer"
    assert table(at, "neighbours")["word"].tolist() == neighbour_words(fashion, "dress")
    assert at.query_params["model"] == "fashion-reviews/skipgram" and at.query_params["word"] == "dress"
    assert set(charts(at)) == {"explorer_plot", "analogy_plot"}  # the map and the analogy's parallelogram


def test_page_typing_a_word_and_switching_model(glove):
    at = page(model="wiki-sample/skipgram", word="king")
    wiki = models.load_embeddings("wiki-sample/skipgram")
    assert table(at, "neighbours")["word"].tolist() == neighbour_words(wiki, "king")

    at.text_input(key="explorer_word").input("Queen").run()
    assert not at.exception, at.exception
    assert table(at, "neighbours")["word"].tolist() == neighbour_words(wiki, "queen")

    at.selectbox(key="explorer_model").set_value("glove").run()
    at.text_input(key="explorer_word").input("manolo").run()
    at.slider(key="explorer_k").set_value(5).run()
    assert not at.exception, at.exception
    shown = table(at, "neighbours")["word"].tolist()
    assert shown == neighbour_words(glove, "manolo", 5) and "blahnik" in shown[:3]
    assert at.query_params["model"] == "glove" and at.query_params["word"] == "manolo"
    assert at.query_params["k"] == "5"


def open_tab(at, label):
    """Open one of the lazy tool tabs, as a click on it does."""
    at.session_state["explorer_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_analogy_odd_one_out_similarity_and_compare():
    at = page(model="glove", word="silk")
    at.text_input(key="analogy_a").input("king")
    at.text_input(key="analogy_b").input("man")
    at.text_input(key="analogy_c").input("woman").run()
    assert not at.exception, at.exception
    assert table(at, "analogy")["word"].iloc[0] == "queen"
    assert any("≈ queen" in s.value for s in at.success)

    open_tab(at, "Odd one out").text_input(key="odd_words").input("breakfast lunch dinner cereal").run()
    assert table(at, "odd")["word"].iloc[-1] == "cereal"

    open_tab(at, "Similarity").text_input(key="similarity_a").input("silk")
    at.text_input(key="similarity_b").input("satin").run()
    assert any(s.value.startswith("cos(silk, satin)") for s in at.success)

    open_tab(at, "Compare models").selectbox(key="explorer_compare").set_value("fashion-reviews/skipgram").run()
    assert not at.exception, at.exception
    first, second = tables(at, "compare")
    shared = set(first["word"]) & set(second["word"])
    assert set(first.loc[first["in both"], "word"]) == shared and set(second.loc[second["in both"], "word"]) == shared
    assert f"{len(shared)} of 10" == at.metric[0].value


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_page_survives_bad_input_in_every_box(text):
    at = page(model="wiki-sample/skipgram")
    for tab, key in (("Analogy", "explorer_word"), ("Analogy", "analogy_a"), ("Odd one out", "odd_words"),
                     ("Similarity", "similarity_b")):
        open_tab(at, tab).text_input(key=key).input(text)
        at.run()
        assert not at.exception, at.exception
        assert at.warning or at.info  # each problem is said in the page
        assert "<script>" not in "".join(m.value for m in at.markdown)  # nothing raw in markdown


def test_page_compares_a_word_only_the_second_model_knows(glove):
    at = open_tab(page(model="wiki-sample/skipgram", word="blahnik", compare="glove"), "Compare models")
    assert any("blahnik" in w.value and "not in the" in w.value for w in at.warning)
    assert sum("“blahnik” is not in the" in w.value for w in at.warning) == 2  # the search box and the compare column
    assert tables(at, "compare")[0]["word"].tolist() == neighbour_words(glove, "blahnik")


def test_page_unknown_word_offers_clickable_suggestions():
    at = page(model="glove", word="blahnikk")
    assert any("not in the" in w.value for w in at.warning)
    at.button(key="explorer_suggest_blahnik").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key="explorer_word").value == "blahnik"
    assert "manolo" in table(at, "neighbours")["word"].tolist()[:3]


def test_page_works_for_a_model_without_stored_projections(monkeypatch):
    import streamlit as st

    monkeypatch.setattr(models, "load_projections", lambda key: None)
    st.cache_resource.clear()
    try:
        at = page(model="wiki-sample/skipgram", word="king")
        assert any("no stored projection" in i.value for i in at.info)
        assert at.dataframe[0].value["word"].tolist() == neighbour_words(models.load_embeddings("wiki-sample/skipgram"), "king")
        assert "explorer_plot" not in charts(at)
    finally:
        st.cache_resource.clear()  # later tests load the real projections again


def test_page_bad_link_falls_back_with_notices():
    at = page(model="nope", projection="umap", k="lots", word="👗")
    texts = " ".join(w.value for w in at.warning)
    assert "'nope'" in texts and "'umap'" in texts and "'lots'" in texts and "No word" in texts
    assert at.selectbox(key="explorer_model").value == "fashion-reviews/skipgram"
    assert at.selectbox(key="explorer_projection").value == "tsne3"


@pytest.mark.parametrize("projection", ["tsne2", "pca3", "pca2"])
def test_page_every_projection_and_kmeans_colouring(projection):
    at = page(model="wiki-sample/cbow", word="king", projection=projection, colour="kmeans", clusters="4")
    scene = charts(at)["explorer_plot"]
    assert scene["dims"] == (3 if projection.endswith("3") else 2)
    names = [group["name"] for group in scene["cloud"]["groups"]]
    assert len(names) == 4 and names[0].startswith("1: ") and names[3].startswith("4: ")
    assert scene["cloud"]["colouring"] == "kmeans/4"  # a new colouring repaints the same cloud


def test_page_reprojects_a_neighbourhood_on_demand():
    at = open_tab(page(model="wiki-sample/skipgram", word="king"), "Re-project")
    at.slider(key="reproject_words").set_value(100)
    at.radio(key="reproject_dimensions").set_value(2)
    at.slider(key="reproject_iterations").set_value(250)
    at.button[-1].click().run()  # the form's "Run t-SNE"
    assert not at.exception, at.exception
    scene = charts(at)["reproject_plot"]
    assert scene["marks"][0]["word"] == "king" and len(scene["cloud"]["words"]) == 100


# ---------------------------------------------------------------- looks and examples (issue 16)

@pytest.mark.parametrize("model_key", [m.key for m in models.embedding_models()])
def test_every_offered_analogy_example_works_on_its_model(model_key):
    emb = models.load_embeddings(model_key)
    offered = tools.analogy_examples(emb, model_key)
    assert offered, f"{model_key} offers no analogy example"
    for example in offered:
        answers = [w for w, _ in tools.analogy(emb, example.a, example.b, example.c).rows]
        assert example.expected in answers, f"{example.label} ≈ {example.expected} not in {answers} on {model_key}"


def test_a_model_without_curated_examples_gets_only_those_that_work_on_it(wiki):
    offered = tools.analogy_examples(wiki, "user/my-texts/skipgram")
    assert offered and all(tools.works(wiki, e) for e in offered)
    assert not tools.works(wiki, tools.AnalogyExample("king", "man", "woman", "queen"))  # why curation matters


def test_the_plot_writes_words_as_text_never_as_html():
    """Words come from models and uploads: the plot's script must never parse one as HTML."""
    from app.ui.explorer import HERE

    script = (HERE / "point_cloud.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "outerHTML" not in script
    assert "textContent = mark.word" in script and "textContent = found.word" in script


def test_a_phone_gets_the_flat_map_of_the_same_projection():
    assert link.phone_view(ExplorerView("glove", "tsne3")).projection == "tsne2"
    assert link.phone_view(ExplorerView("glove", "pca3")).projection == "pca2"
    assert link.phone_view(ExplorerView("glove", "pca2")).projection == "pca2"


def test_page_first_shows_the_whole_cloud_then_zooms_on_a_lookup():
    at = page(model="wiki-sample/skipgram", word="king")
    assert at.checkbox(key="explorer_zoom").value is False
    assert charts(at)["explorer_plot"]["focus"] is None  # the whole coloured cloud
    at.text_input(key="explorer_word").input("queen").run()
    assert at.checkbox(key="explorer_zoom").value is True
    assert charts(at)["explorer_plot"]["focus"] is not None  # then the flight to the word


def test_page_offers_the_models_own_examples_and_one_click_fills_the_boxes():
    at = page(model="glove", word="silk")
    offered = tools.analogy_examples(models.load_embeddings("glove"), "glove")
    assert at.text_input(key="analogy_a").value == offered[0].a  # the page opens on one that works
    at.button_group(key="analogy_example").set_value(offered[1].label).run()
    assert [at.text_input(key=k).value for k in ("analogy_a", "analogy_b", "analogy_c")] == \
        [offered[1].a, offered[1].b, offered[1].c]
    assert table(at, "analogy")["word"].tolist().index(offered[1].expected) < 5

    at.selectbox(key="explorer_model").set_value("fashion-reviews/skipgram").run()
    fashion = tools.analogy_examples(models.load_embeddings("fashion-reviews/skipgram"), "fashion-reviews/skipgram")
    assert at.text_input(key="analogy_a").value == fashion[0].a  # not GloVe's example on the fashion model
    assert fashion[0].expected in table(at, "analogy")["word"].tolist()



def test_highlight_colours_are_far_from_every_category_colour():
    """The query's and its neighbours' colours never look like a category's (CIELAB distance > 60)."""
    def lab(colour: str) -> np.ndarray:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
        f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    for highlight in (scenes.QUERY_COLOUR, scenes.NEIGHBOUR_COLOUR):
        distances = {name: float(np.linalg.norm(lab(highlight) - lab(colour)))
                     for name, colour in space.CATEGORY_COLOURS.items()}
        assert min(distances.values()) > 60, (highlight, distances)
