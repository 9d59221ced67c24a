"""Phone-first (issue 26, item 7): on a 390 × 844 phone each page's main action and its result are on the
first screen, and what it says is large enough to read. Positions are bounding boxes in CSS pixels from
the top of the screen, before any scroll; sizes are computed font sizes. Each test prints what it measured.
"""

import re

from playwright.sync_api import expect

from app.catalog import models
from app.explorer import link
from tests.e2e.conftest import PHONE, needs_page
from tests.e2e.harness import POINT_CLOUD, cloud_marks, rerun_after

pytestmark = needs_page("pages/embeddings.py")

SCREEN = PHONE["viewport"]["height"]  # 844
MIN_LABEL_PX = 12


def box_of(locator) -> dict:
    locator.first.wait_for()
    box = locator.first.bounding_box()
    assert box is not None, locator
    return box


def on_first_screen(name: str, locator) -> dict:
    """The element's box, asserted to lie wholly within the first screen (0 to 844 px)."""
    box = box_of(locator)
    print(f"{name}: top {box['y']:.0f}, bottom {box['y'] + box['height']:.0f}")
    assert 0 <= box["y"] and box["y"] + box["height"] <= SCREEN, (name, box)
    return box


def font_px(locator) -> float:
    return float(locator.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def in_main(page, selector: str):
    return page.locator(f'[data-testid="stMain"] {selector}')


def test_explorer_box_plot_and_neighbours_on_the_first_screen(open_on_phone):
    page = open_on_phone("explorer")
    box = page.get_by_label("Word", exact=True)
    on_first_screen("word box", box)
    on_first_screen("plot", page.locator(POINT_CLOUD))
    on_first_screen("top neighbours", page.get_by_text(re.compile(r"^Nearest to “")))
    # the placeholder's examples are words the default model knows
    examples = box.get_attribute("placeholder").removeprefix("e.g. ").split(", ")
    default_view, _problems = link.view_from_query({}, [m.key for m in models.embedding_models()])
    default = models.load_embeddings(default_view.model)
    print(f"placeholder: {examples}")
    assert examples and all(word in default for word in examples), examples


def test_why_lstm_sliders_inline_and_charts_let_a_swipe_scroll(open_on_phone):
    page = open_on_phone("why-lstm")
    slider = in_main(page, '[data-testid="stSlider"]').filter(has_text="Recurrent scale")
    on_first_screen("recurrent-scale slider", slider)
    on_first_screen("activation", in_main(page, '[data-testid="stSelectbox"]').filter(has_text="RNN activation"))
    chart = in_main(page, '[data-testid="stPlotlyChart"] .js-plotly-plot')
    box = box_of(chart)
    print(f"gradient chart: top {box['y']:.0f}")
    assert box["y"] < SCREEN  # it starts on the first screen, under the sliders that move it
    layout = chart.first.evaluate("e => ({drag: e._fullLayout.dragmode, x: e._fullLayout.xaxis.fixedrange, "
                                  "y: e._fullLayout.yaxis.fixedrange})")
    print(f"gradient chart on a phone: {layout}")
    assert layout == {"drag": False, "x": True, "y": True}  # a vertical swipe scrolls the page, never zooms


def test_playground_generate_on_the_first_screen_and_its_output_below_it(open_on_phone):
    page = open_on_phone("playground")
    button = page.get_by_role("button", name="Generate")
    button_box = on_first_screen("Generate", button)
    rerun_after(page, button.click)
    output = in_main(page, ".atelier-text")
    output_box = box_of(output)
    print(f"output: top {output_box['y']:.0f}")
    assert output_box["y"] >= button_box["y"] + button_box["height"]  # below the button, not above it
    assert output_box["y"] < SCREEN


def test_gates_say_which_characters_they_show_in_readable_labels(open_on_phone):
    page = open_on_phone("lstm-gates")
    cue = in_main(page, "p").filter(has_text=re.compile(r"Showing characters \d+–\d+ of \d+"))
    on_first_screen("window cue", cue)
    ticks = in_main(page, '[data-testid="stPlotlyChart"] .xtick text, [data-testid="stPlotlyChart"] .ytick text')
    ticks.first.wait_for()
    sizes = ticks.evaluate_all("ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize))")
    print(f"heatmap labels: {min(sizes)}–{max(sizes)} px")
    assert min(sizes) >= MIN_LABEL_PX


def test_gates_equations_fit_the_phones_width(open_on_phone):
    """Every equation of the Equations tab, numbers included, ends inside the screen: none runs off
    it or hides in a region that scrolls sideways."""
    page = open_on_phone("lstm-gates")
    rerun_after(page, page.get_by_role("tab", name="Equations").click)
    equations = in_main(page, ".katex-display")
    expect(equations).to_have_count(6)
    # the right edge of each equation's widest line, and of the box that shows it
    edges = equations.evaluate_all("""ds => ds.map(d => ({
        content: Math.max(...[...d.querySelectorAll('.katex-html .base')].map(b => b.getBoundingClientRect().right)),
        shown: d.getBoundingClientRect().right, hidden: d.scrollWidth - d.clientWidth}))""")
    print(f"equations end at {[round(e['content']) for e in edges]} px of {PHONE['viewport']['width']}")
    for edge in edges:
        assert edge["content"] <= min(edge["shown"], PHONE["viewport"]["width"]), edge
        # nothing to scroll to: the box scrolls sideways, but its content is at most its width rounded
        # to whole pixels wider (KaTeX lays lines out in fractions of a pixel)
        assert edge["hidden"] <= 2, edge


def test_quiz_sentence_as_large_as_the_headings_and_new_game_away_from_the_answers(open_on_phone):
    page = open_on_phone("fake-or-real")
    rerun_after(page, page.get_by_role("button", name="New game").click)
    expect(page.get_by_text("Round 1 of 10")).to_be_visible()
    sentence = font_px(in_main(page, ".atelier-text"))
    # the page's section headings (h2: "The room · …"); the page title (h1) is the one larger text
    heading = font_px(in_main(page, "h2"))
    others = page.locator('[data-testid="stMain"] p, [data-testid="stMain"] button, [data-testid="stMain"] label')
    largest_other = max(others.evaluate_all("es => es.map(e => parseFloat(getComputedStyle(e).fontSize))"))
    print(f"sentence {sentence} px, section heading {heading} px, largest other text {largest_other} px")
    assert sentence >= heading and sentence > largest_other
    answers = box_of(page.get_by_role("button", name="Human"))
    new_game = box_of(page.get_by_role("button", name="New game"))
    gap = new_game["y"] - (answers["y"] + answers["height"])
    print(f"answers → New game: {gap:.0f} px")
    assert gap >= 48  # a thumb's width and more between an answer and a new game


def test_home_leads_with_join_a_room_and_folds_the_metrics(open_on_phone):
    page = open_on_phone("")
    on_first_screen("what the app is", in_main(page, "p").filter(has_text="Word embeddings and recurrent networks"))
    join = in_main(page, '[data-testid="stPageLink"]').filter(has_text="Join a room")
    on_first_screen("Join a room", join)
    first_link = in_main(page, '[data-testid="stPageLink"]').first
    assert "Join a room" in first_link.inner_text()
    models_expander = in_main(page, '[data-testid="stExpander"]').filter(has_text="The models")
    expect(models_expander.locator("details")).not_to_have_attribute("open", "")  # folded away
    expect(page.get_by_text("nats/char").first).to_be_hidden()


def test_on_a_projector_every_neighbour_is_labelled(page, app_server):
    """At projector size (1280 × 900) a looked-up word and all its neighbours carry a label."""
    from tests.e2e.conftest import open_through_sidebar

    open_through_sidebar(page, app_server.url, "explorer")
    box = page.get_by_label("Word", exact=True)
    box.fill("silk")
    rerun_after(page, lambda: box.press("Enter"))
    expect(page.get_by_text("Nearest to “silk”")).to_be_visible()
    marks = [mark["word"] for mark in cloud_marks(page)]
    canvas = page.locator(POINT_CLOUD).first  # the explorer's plot (the analogy tab has its own)
    shown = "c => [...c.getRootNode().querySelectorAll('.labels .label:not([hidden])')].map(l => l.textContent)"
    page.wait_for_function(f"c => ({shown})(c).length >= {len(marks)}", arg=canvas.element_handle(), timeout=30_000)
    labelled = canvas.evaluate(shown)
    print(f"projector: {len(labelled)} labels for {len(marks)} marked words")
    assert sorted(labelled) == sorted(marks)
