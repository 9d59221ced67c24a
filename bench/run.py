"""Benchmarks: prints one markdown table (metric, value, target, note) and the machine it ran on.

    python bench/run.py            # full run (a few minutes on 2 cores)
    python bench/run.py --quick    # fewer repetitions and a smaller t-SNE, for a smoke check

    python bench/run.py --write-docs   # and write the table into docs/benchmarks.md

Each row is one small function returning ``Row``s. A row whose page is not in the app yet reports
"n/a (page missing)"; a row that fails reports its error: the table is always printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest and the model store resolve paths from the project root

import numpy as np  # noqa: E402

from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402
from tests.e2e.harness import AppServer, launch_chromium, page_registered, wait_for_app  # noqa: E402

FASHION_LM, FALLBACK_LM = "fashion-reviews", "wiki-sample"


@dataclass
class Row:
    metric: str
    value: str
    target: str
    note: str = ""


@dataclass
class Settings:
    quick: bool = False

    @property
    def repeats(self) -> int:
        return 10 if self.quick else 50

    @property
    def tsne_words(self) -> int:
        return 500 if self.quick else 2000


class PageMissing(Exception):
    """The page a row measures is not in pages/ and streamlit_app.py yet."""


def require_page(page_file: str) -> None:
    if not page_registered(page_file):
        raise PageMissing(page_file)


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of each call, after one untimed warm-up call."""
    function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def p50_ms(seconds: list[float]) -> float:
    return 1000 * statistics.median(seconds)


def p95_ms(seconds: list[float]) -> float:
    return 1000 * float(np.percentile(seconds, 95))


def language_model():
    from app.catalog import models

    bundle = FASHION_LM if FASHION_LM in models.language_model_bundles() else FALLBACK_LM
    return bundle, models.load_language_model(bundle)


# ---------------------------------------------------------------- the app as a whole


def server_rows(settings: Settings) -> list[Row]:
    """Cold start (process start → home page drawn in Chromium), then RSS after every page is opened."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        started = time.perf_counter()
        with AppServer() as server:
            page = browser.new_page()
            page.goto(server.url)
            wait_for_app(page)
            page.locator('[data-testid="stMain"] h1').first.wait_for()
            cold_start = time.perf_counter() - started

            links = page.locator('[data-testid="stSidebarNav"] a')
            urls = [links.nth(i).get_attribute("href") for i in range(links.count())]
            for url in urls:
                page.goto(url)
                wait_for_app(page)
            rss = server.rss_bytes()
        browser.close()
    return [Row("cold start: server start → home page drawn", f"{cold_start:.1f} s", "≤ 15 s",
                "streamlit run, headless Chromium"),
            Row("server RSS after opening every page", f"{rss / 2**20:.0f} MB", "≤ 2048 MB",
                f"{len(urls)} pages, each loads its models")]


def every_model_rss_row(settings: Settings) -> list[Row]:
    """Memory of one process holding every embedding model, projection and language model."""
    import psutil

    from app.catalog import models

    before = psutil.Process().memory_info().rss
    held = []
    for model in models.embedding_models():
        emb = models.load_embeddings(model.key)
        _ = emb.unit
        held += [emb, models.load_projections(model.key)]
    held += [models.load_language_model(b) for b in models.language_model_bundles()]
    after = psutil.Process().memory_info().rss
    return [Row("RSS with every model loaded", f"{after / 2**20:.0f} MB", "≤ 2048 MB",
                f"{len(held)} objects; +{(after - before) / 2**20:.0f} MB over the bare interpreter")]


# ---------------------------------------------------------------- models


def neighbour_rows(settings: Settings) -> list[Row]:
    """Top-10 cosine neighbours on GloVe's 400k words: ours against gensim on the same unit vectors."""
    from gensim.models import KeyedVectors

    from app.vectors.embeddings import load_glove

    emb = load_glove()
    kv = KeyedVectors(emb.dimensions)
    kv.add_vectors(emb.words, emb.unit)
    kv.fill_norms()
    words = emb.words[100:100 + settings.repeats]
    ours = [timed(lambda w=w: emb.most_similar(w, 10), 1)[0] for w in words]
    theirs = [timed(lambda w=w: kv.most_similar(w, topn=10), 1)[0] for w in words]
    same = np.mean([[n for n, _ in emb.most_similar(w, 10)] == [n for n, _ in kv.most_similar(w, topn=10)]
                    for w in words[:10]])
    return [Row("neighbour query, GloVe 400k × 50d (p50)", f"{p50_ms(ours):.1f} ms", "≤ 10 ms",
                f"{len(words)} words, top 10"),
            Row("… vs gensim KeyedVectors.most_similar", f"{p50_ms(ours) / p50_ms(theirs):.2f}×", "≤ 1×",
                f"gensim {p50_ms(theirs):.1f} ms; same top 10 for {same:.0%} of words")]


def tsne_rows(settings: Settings) -> list[Row]:
    """3D t-SNE of the most frequent GloVe words: openTSNE (app.vectors.projection) against scikit-learn."""
    from sklearn.manifold import TSNE

    from app.vectors.embeddings import load_glove
    from app.vectors.projection import TSNE_PARAMS, tsne

    emb = load_glove()
    vectors = emb.unit[:settings.tsne_words].astype(np.float64)
    start = time.perf_counter()
    tsne(vectors, 3, seed=0)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    TSNE(n_components=3, perplexity=TSNE_PARAMS["perplexity"], max_iter=TSNE_PARAMS["n_iter"], metric="cosine",
         init="pca", random_state=0, n_jobs=1).fit_transform(vectors)  # one thread, as app.vectors.projection
    theirs = time.perf_counter() - start
    return [Row(f"t-SNE 3D of {len(vectors):,} words, openTSNE", f"{ours:.1f} s", "precomputed at training",
                "Barnes-Hut, 750 iterations, 1 thread each"),
            Row("… vs scikit-learn TSNE", f"{ours / theirs:.2f}×", "≤ 1×", f"scikit-learn {theirs:.1f} s")]


def projections_load_row(settings: Settings) -> list[Row]:
    """Reading a model's stored t-SNE / PCA coordinates from disk, checksum included (cold cache aside)."""
    from app.catalog import models

    key = models.embedding_models()[0].key
    seconds = timed(lambda: models.load_projections(key), settings.repeats)
    return [Row("precomputed coordinates load (p50)", f"{p50_ms(seconds):.0f} ms", "≤ 50 ms",
                f"{key}: words, t-SNE 2D/3D, PCA, sha256 checked")]


def gate_trace_row(settings: Settings) -> list[Row]:
    """What the gates page runs per keystroke: every gate of every layer (app.lessons.gates.trace_text)."""
    import torch

    from app.lessons.gates import trace_text

    bundle, lm = language_model()
    text = "".join(lm.generate(length=300, seed=0)).ljust(300, " ")[:300]  # model-written, not corpus text
    seconds = timed(lambda: trace_text(lm, text), settings.repeats // 5)
    return [Row("gate trace of 300 characters (p50)", f"{p50_ms(seconds):.0f} ms", "≤ 20 ms",
                f"{bundle} LM, every layer, {torch.get_num_threads()} threads")]


def generation_row(settings: Settings) -> list[Row]:
    bundle, lm = language_model()
    length = 200 if settings.quick else 1000
    start = time.perf_counter()
    text = "".join(lm.generate(length=length, temperature=0.8, seed=1))
    rate = len(text) / (time.perf_counter() - start)
    return [Row("LM generation", f"{rate:,.0f} chars/s", "≥ 100 chars/s", f"{bundle} LM, {len(text)} characters")]


# ---------------------------------------------------------------- pages, server-side (AppTest)


def page_reruns(page_file: str, interact: Callable[[object, int], None], repeats: int) -> list[float]:
    """Seconds of each AppTest rerun that follows one interaction; the first run is not counted.

    A server compiles a page once per process (its ScriptCache); AppTest compiles it again on
    every run (15-20 ms for the explorer, Streamlit's "magic" AST pass), so here one cache is
    shared across the runs, as on the server."""
    import streamlit.testing.v1.app_test as app_test
    import streamlit.testing.v1.local_script_runner as local_script_runner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    require_page(page_file)
    compiled_once = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: compiled_once
    at = AppTest.from_file(str(ROOT / page_file), default_timeout=120).run()
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    seconds = []
    for i in range(repeats):
        interact(at, i)
        start = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(at.exception[0].message)
    return seconds


EXPLORER_WORDS = ["dress", "silk", "king", "petite", "jeans", "blue", "summer", "cotton", "shoes", "london"]


def explorer_rerun_row(settings: Settings) -> list[Row]:
    def new_query(at, i):
        at.text_input(key="explorer_word").input(EXPLORER_WORDS[i % len(EXPLORER_WORDS)])

    seconds = page_reruns("pages/embeddings.py", new_query, settings.repeats // 2)
    return [Row("explorer: new query → page rerun, server time (p50)", f"{p50_ms(seconds):.0f} ms", "≤ 60 ms",
                f"AppTest, {len(seconds)} queries, default model; p95 {p95_ms(seconds):.0f} ms")]


READING_SECONDS = 5.0  # a visitor on the home page before they open the explorer


def explorer_browser_rows(settings: Settings) -> list[Row]:
    """What a visitor waits for in Chromium: the page opened (plot drawn), a lookup (Enter → the new
    neighbours listed and the plot redrawn), a switch of model; on a server whose first visitor
    has loaded the models, then (in the notes) for that first visitor."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.harness import POINT_CLOUD, rerun_after

    require_page("pages/embeddings.py")
    words = ["silk", "petite", "jeans", "linen", "summer", "cotton", "blue", "sweater"]  # the fashion model's
    words = words[:3] if settings.quick else words

    def explorer_shown(page) -> None:
        """The explorer's plot drawn and its neighbour table in view."""
        expect(page.locator(POINT_CLOUD).first).to_be_attached(timeout=180_000)
        expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=180_000)

    def open_explorer(browser, url) -> tuple[object, float]:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(180_000)
        started = time.perf_counter()
        page.goto(f"{url}/explorer")
        wait_for_app(page, 180_000)
        explorer_shown(page)
        return page, time.perf_counter() - started

    def drawn(page, action, *ready) -> float:
        started = time.perf_counter()
        rerun_after(page, action, 180_000)
        for locator in ready:
            expect(locator).to_be_visible(timeout=180_000)
        return time.perf_counter() - started

    def switch_model(page, label, key) -> float:
        page.get_by_label("Model", exact=True).click()
        return drawn(page, lambda: page.get_by_role("option", name=label).click(),
                     page.locator(f'{POINT_CLOUD}[data-cloud^="{key}/"]').first)

    with sync_playwright() as playwright, AppServer() as server:
        browser = launch_chromium(playwright)
        home = browser.new_page()
        home.goto(server.url)  # the speaker opens the app first (a deep link's first session gets a dialog)
        wait_for_app(home, 180_000)
        first_page, first_open = open_explorer(browser, server.url)
        first_switch = switch_model(first_page, "GloVe 6B 50d · general English", "glove")  # loads 400k vectors
        opens, lookups, switches = [], [], []
        for _ in range(3 if settings.quick else 5):
            page, seconds = open_explorer(browser, server.url)
            opens.append(seconds)
            page.context.close()
        from_home = []
        for _ in range(2 if settings.quick else 3):  # as in a talk: the home page first, then the explorer
            visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            visitor.goto(server.url)
            wait_for_app(visitor, 180_000)
            time.sleep(READING_SECONDS)
            started = time.perf_counter()
            visitor.locator('[data-testid="stSidebarNav"] a[href$="/explorer"]').click()
            explorer_shown(visitor)
            from_home.append(time.perf_counter() - started)
            visitor.context.close()
        returning = []
        for _ in range(2 if settings.quick else 3):  # a visitor who has had the app open before (cached code)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            earlier = context.new_page()
            earlier.goto(server.url)
            wait_for_app(earlier, 180_000)
            earlier.close()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{server.url}/explorer")
            explorer_shown(page)
            returning.append(time.perf_counter() - started)
            context.close()
        page, _ = open_explorer(browser, server.url)
        box = page.get_by_label("Word", exact=True)
        for word in words:
            box.fill(word)
            lookups.append(drawn(page, lambda: box.press("Enter"), page.get_by_text(f"Nearest to “{word}”"),
                                 page.locator(f'{POINT_CLOUD}[data-query="{word}"]').first))
        for label, key in [("GloVe 6B 50d · general English", "glove"),
                           ("skip-gram · fashion-reviews", "fashion-reviews/skipgram")] * (1 if settings.quick else 3):
            switches.append(switch_model(page, label, key))
        browser.close()
    return [Row("explorer in Chromium: page open → plot drawn (p50)", f"{statistics.median(opens):.2f} s", "≤ 2 s",
                f"{len(opens)} new visitors; the server's first visitor {first_open:.1f} s (loads the models)"),
            Row("explorer in Chromium: page open, returning visitor → plot drawn (p50)",
                f"{statistics.median(returning):.2f} s", "≤ 2 s",
                f"{len(returning)} visitors whose browser had the app open before (its code cached); a new tab"),
            Row("explorer in Chromium: home page read, then explorer → plot drawn (p50)",
                f"{statistics.median(from_home):.2f} s", "≤ 2 s",
                f"{len(from_home)} visitors, {READING_SECONDS:.0f} s on the home page (the chart code loads meanwhile)"),
            Row("explorer in Chromium: lookup → neighbours and plot (p50)", f"{statistics.median(lookups):.2f} s",
                "≤ 0.5 s", f"{len(lookups)} words typed + Enter; max {max(lookups):.2f} s"),
            Row("explorer in Chromium: model switch → plot drawn (p50)", f"{statistics.median(switches):.2f} s",
                "≤ 1 s", f"{len(switches)} switches GloVe ↔ fashion skip-gram; the first GloVe load {first_switch:.1f} s")]


def gates_keystroke_row(settings: Settings) -> list[Row]:
    typing = ("the linen is soft and the fit is true to size, i would buy it again in blue. the sleeves "
              "are a touch long and the hem is uneven, but the colour is exactly as pictured online.")

    def keystroke(at, i):  # one more character each time, as a visitor types a sentence of 150-200
        at.text_input(key="gates_text").input(typing[: 150 + i])

    seconds = page_reruns("pages/lstm_gates.py", keystroke, settings.repeats // 2)
    return [Row("gates: keystroke → page updated (p95)", f"{p95_ms(seconds):.0f} ms", "≤ 250 ms",
                f"AppTest, {len(seconds)} keystrokes, every gate drawn; p50 {p50_ms(seconds):.0f} ms")]


def quiz_rows(settings: Settings) -> list[Row]:
    """Server time of the quiz's interactions, measured two ways.

    Script-run time (the targets): the page in AppTest in a fresh process, with st.fragment wrapped
    in a timer. New game's whole run (its callback deals, the page draws the first round: what a
    fresh server does) and, per answer or next-round click, the game fragment's run (what the
    server runs on such a click in a browser: only the fragment reruns).
    Round trip: a websocket client as a browser tab on a real server (bench/visitor.py), send → script
    run finished; on a busy machine this is mostly waiting for a CPU, see the load average above.
    """
    import json
    import subprocess

    require_page("pages/fake_or_real.py")
    games = 2 if settings.quick else 5
    code = f"import json; from bench.run import quiz_script_times; print(json.dumps(quiz_script_times({games})))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    script = json.loads(done.stdout.strip().splitlines()[-1])
    from bench.visitor import Visitor  # here: quiz_script_times wraps st.fragment before the app's modules load

    with AppServer() as server:
        tab = Visitor(server.url)  # like Chromium, a click inside the st.fragment reruns the fragment only
        tab.open("fake-or-real")
        tab.click("quiz_new_game")
        trips = [tab.click(key).seconds for number in range(10)
                 for key in ("quiz_human" if number % 2 else "quiz_lstm", "quiz_next")]
        tab.close()
    clicks = script["clicks"]
    return [Row("quiz: fresh server → first round (server)", f"{1000 * script['first_round']:.0f} ms", "≤ 1000 ms",
                "AppTest in a fresh process: New game's run (deal from the stored deck + page) right after the "
                "page opened; the browser figure: tests/e2e/test_fake_or_real.py prints it"),
            Row("quiz click → game fragment rerun (p50)", f"{p50_ms(clicks):.1f} ms", "≤ 15 ms",
                f"script-run time of the st.fragment, {len(clicks)} answer / next-round clicks; p95 "
                f"{p95_ms(clicks):.1f} ms; websocket round trip on a real server p50 {p50_ms(trips):.0f} ms")]


def quiz_script_times(games: int) -> dict:
    """For quiz_rows, in a fresh process: seconds of New game's first run, and of the game
    fragment on every answer and next-round click of ``games`` games (AppTest, st.fragment timed)."""
    import functools

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    fragment_seconds: list[float] = []
    original = st.fragment

    def timed_fragment(function=None, **options):
        def decorate(body):
            @functools.wraps(body)
            def run(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return body(*args, **kwargs)
                finally:
                    if body.__name__ == "play":  # the game (the room board is another fragment)
                        fragment_seconds.append(time.perf_counter() - start)
            return original(run, **options)
        return decorate(function) if function is not None else decorate

    st.fragment = timed_fragment
    at = AppTest.from_file(str(ROOT / "pages/fake_or_real.py"), default_timeout=120).run()
    start = time.perf_counter()
    at.button(key="quiz_new_game").click().run()
    first_round = time.perf_counter() - start
    clicks = []
    for _ in range(games):
        for number in range(10):
            for key in ("quiz_human" if number % 2 else "quiz_lstm", "quiz_next"):
                at.button(key=key).click().run()
                if at.exception:
                    raise RuntimeError(at.exception[0].message)
                clicks.append(fragment_seconds[-1])
        at.button(key="quiz_new_game").click().run()
    return {"first_round": first_round, "clicks": clicks}


def detector_row(settings: Settings) -> list[Row]:
    from app.data.corpus import FASHION, WIKI, fashion_corpus_path
    from bench.detectability import detectability

    deck = FASHION if fashion_corpus_path().is_file() else WIKI
    (row,) = detectability(deck, difficulties=["normal"])
    strongest = row.detections[row.strongest]
    return [Row("fake detector accuracy (normal difficulty)", f"{strongest.accuracy:.0%} ± {strongest.accuracy_std:.0%}",
                "≤ 65%", f"strongest of five detectors ({row.strongest}), {row.pairs} real + {row.pairs} fake, {deck}; "
                "bench/detectability.py for all")]


ROWS = [server_rows, every_model_rss_row, neighbour_rows, projections_load_row, tsne_rows, gate_trace_row, explorer_rerun_row,
        explorer_browser_rows,
        gates_keystroke_row, quiz_rows, generation_row, detector_row]


# ---------------------------------------------------------------- the table


def machine() -> str:
    import psutil

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
            f"load average {load:.1f} when the run started (other work on the machine slows every row)")


def safe_rows(row_function, settings: Settings) -> list[Row]:
    name = row_function.__name__.removesuffix("_rows").removesuffix("_row").replace("_", " ")
    try:
        return row_function(settings)
    except PageMissing as missing:
        return [Row(name, "n/a (page missing)", "", f"{missing} is not in the app yet")]
    except Exception as error:  # one broken row must not hide the others
        traceback.print_exc(file=sys.stderr)
        return [Row(name, "error", "", f"{type(error).__name__}: {error}"[:200])]


def markdown_table(rows: list[Row]) -> str:
    lines = ["| metric | value | target | note |", "|---|---|---|---|"]
    lines += [f"| {r.metric} | {r.value} | {r.target} | {r.note} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 500-word t-SNE")
    parser.add_argument("--only", default="", help="comma-separated row functions, e.g. gate_trace_row")
    add_write_docs_flag(parser, "bench/run.py")
    args = parser.parse_args()
    settings = Settings(quick=args.quick)
    chosen = [f for f in ROWS if not args.only or f.__name__ in args.only.split(",")]
    started_on = machine()
    rows = [row for function in chosen for row in safe_rows(function, settings)]
    print(f"Machine: {started_on}{' (quick run)' if args.quick else ''}\n")
    print(markdown_table(rows))
    if args.write_docs:  # a run of some rows (--only) replaces those rows and keeps the others
        write_docs("bench/run.py", markdown_table(rows), merge=bool(args.only))


if __name__ == "__main__":
    main()
