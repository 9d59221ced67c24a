"""Talk mode in the browser: the speaker view on the laptop, the stage at 1920 × 1080, and five phones go
through the default talk, which has a beat of every kind, with the speaker's keyboard alone; then the results
page.

Checked on the way: the phones follow the stage, answers are counted and scored, the room's words land in the
3D cloud and a phone's sentence goes through the gates, the speaker's key never reaches the stage, the phones
or the results, and the stage is a stage (no sidebar or toolbar showing, headline >= 56 px and body >= 32 px
in computed styles, each beat within 1080 px), with no serious or critical axe violation and its text at a
contrast of 7:1 or more, measured from computed styles, in every state the test passes through."""

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from app.game.talk import load_talk
from app.serving.site import SCREENSHOTS
from tests.e2e.conftest import PHONE, needs_page
from tests.e2e.harness import POINT_CLOUD, rerun_after, wait_for_app
from tests.e2e.test_accessibility import axe_script, blocking_violations  # noqa: F401 (axe_script: a fixture)

pytestmark = needs_page("pages/speaker.py")

NAMES = ["Alice", "Bob", "<b>Carol</b>", "Dan", "Eve"]
DEAL_TIMEOUT = 180_000  # the first room of a fresh server waits for the deck and the LSTM's fakes
STAGE = {"viewport": {"width": 1920, "height": 1080}}


def press(page, key: str = "ArrowRight") -> None:
    page.evaluate("() => document.activeElement?.blur()")  # keys typed into a field are not the talk's
    rerun_after(page, lambda: page.keyboard.press(key))


def on_beat(speaker, number: int) -> None:
    expect(speaker.get_by_text(re.compile(rf"^Now: {number}\. "))).to_be_visible()


def stage_is_a_stage(stage) -> None:
    """Nothing of Streamlit's chrome shows, the type is big enough, and the beat fits the screen."""
    found = stage.evaluate("""() => {
        const stage = document.querySelector('.st-key-stage');
        const covered = [[40, 500], [1880, 20], [960, 20], [20, 1060]].every(
            ([x, y]) => stage.contains(document.elementFromPoint(x, y)));
        const px = (selector) => [...stage.querySelectorAll(selector)].map(
            (e) => parseFloat(getComputedStyle(e).fontSize));
        return {covered, titles: px('.stage-title'), body: px('.stage-body, p, li'),
                fits: stage.scrollHeight <= window.innerHeight + 1};
    }""")
    assert found["covered"], "the sidebar, header or toolbar shows on the stage"
    assert found["titles"] and min(found["titles"]) >= 56, found
    assert found["body"] and min(found["body"]) >= 32, found
    assert found["fits"], "the beat is taller than the screen"


# The contrast of every piece of text on the stage, from computed styles: the text's colour over the first
# opaque background behind it (each colour read back through a canvas, so any CSS colour syntax works; a
# translucent one is blended over what is behind it). The gates demo's letters too: each on its cell's colour
# (app/lessons/highlight.py's readable_colours).
CONTRAST_JS = """() => {
    const canvas = document.createElement('canvas'), g = canvas.getContext('2d', {willReadFrequently: true});
    canvas.width = canvas.height = 1;
    const rgba = (css) => { g.clearRect(0, 0, 1, 1); g.fillStyle = '#000'; g.fillStyle = css; g.fillRect(0, 0, 1, 1);
                            const [r, gr, b, a] = g.getImageData(0, 0, 1, 1).data; return [r, gr, b, a / 255]; };
    const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
    const backdrop = (element) => {
        const layers = [];
        for (let e = element; e; e = e.parentElement) {
            const colour = rgba(getComputedStyle(e).backgroundColor);
            if (colour[3] > 0) layers.push(colour);
            if (colour[3] >= 1) break;
        }
        return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255]);
    };
    const luminance = (rgb) => rgb.map((c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
                                  .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    const stage = document.querySelector('.st-key-stage'), walker = document.createTreeWalker(stage, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim(), element = walker.currentNode.parentElement;
        const box = element.getBoundingClientRect();
        if (!text || !box.width || !box.height || getComputedStyle(element).visibility === 'hidden') continue;
        if (element.closest('.katex-mathml')) continue;  // MathML: for screen readers
        const under = backdrop(element), ink = over(rgba(getComputedStyle(element).color), under);
        const [light, dark] = [luminance(ink), luminance(under)].sort((a, b) => b - a);
        found.push({text: text.slice(0, 40), ratio: Math.round((light + 0.05) / (dark + 0.05) * 100) / 100});
    }
    return found.sort((a, b) => a.ratio - b.ratio);
}"""
MIN_CONTRAST = 7.0  # the figure (WCAG's AAA for normal text)
contrasts: dict[str, float] = {}  # state -> the stage's lowest contrast, written into artifacts/e2e


def stage_is_readable(stage, axe_source: str, state: str) -> None:
    """axe finds no serious or critical violation on the stage, and every text has a contrast of 7:1 or more."""
    problems = blocking_violations(stage, axe_source)
    assert not problems, f"{state}: " + "\n".join(problems)
    found = stage.evaluate(CONTRAST_JS)
    assert found, f"{state}: no text measured"
    contrasts[state] = found[0]["ratio"]
    assert found[0]["ratio"] >= MIN_CONTRAST, f"{state}: {found[:5]}"


def test_a_talk_of_every_beat_kind_with_five_phones(open_app, browser, app_server, axe_script):  # noqa: F811
    talk = load_talk()
    first = {kind: next(b.number for b in talk.beats if b.kind == kind)
             for kind in ("word_guess", "choice", "estimate", "fake_or_real")}
    first.update({view: next(b.number for b in talk.beats if b.settings.get("view") == view)
                  for view in ("explorer", "gates")})
    speaker = open_app("speaker")
    rerun_after(speaker, speaker.get_by_role("button", name="Start the talk").click, timeout=DEAL_TIMEOUT)
    on_beat(speaker, 1)
    query = parse_qs(urlsplit(speaker.url).query)
    code, secret = query["room"][0], query["key"][0]

    contexts = [browser.new_context(**STAGE)] + [browser.new_context(**PHONE) for _ in NAMES]
    try:
        stage = contexts[0].new_page()
        stage.goto(f"{app_server.url}/stage?room={code}")
        wait_for_app(stage)
        expect(stage.locator(".stage-title")).to_have_text(talk.beats[0].title)
        phones = [context.new_page() for context in contexts[1:]]
        for phone, name in zip(phones, NAMES, strict=True):
            phone.goto(f"{app_server.url}/play?room={code}")
            wait_for_app(phone)
            phone.get_by_label("Nickname").fill(name)
            rerun_after(phone, phone.get_by_role("button", name="Join").click)
            expect(phone.get_by_text("Look at the big screen")).to_be_visible()

        stage_is_readable(stage, axe_script, "a slide")
        press(speaker, "q")  # Q: the QR code on the stage, by the public address only
        expect(stage.get_by_text(f"Join on your phone · room {code}")).to_be_visible()
        stage_is_a_stage(stage)
        stage_is_readable(stage, axe_script, "the QR code")
        press(speaker, "q")
        expect(stage.locator(".stage-title")).to_have_text(talk.beats[0].title)

        # A stage in the speaker's own browser answers the keys (its cookie); the projector's, elsewhere, only follows.
        own_stage = speaker.context.new_page()
        own_stage.goto(f"{app_server.url}/stage?room={code}")
        wait_for_app(own_stage)
        assert secret not in own_stage.url and secret not in own_stage.content()
        press(own_stage)
        on_beat(speaker, 2)  # the speaker view follows a move made from the stage
        expect(stage.locator(".stage-title")).to_have_text(talk.beats[1].title)
        own_stage.close()
        press(stage, "ArrowLeft")
        stage.wait_for_timeout(2000)
        expect(stage.locator(".stage-title")).to_have_text(talk.beats[1].title)

        while True:  # → to the first word guess
            press(speaker)
            if f"Now: {first['word_guess']}." in speaker.inner_text("body"):
                break
        for phone in phones:
            expect(phone.get_by_label("Your word")).to_be_visible()  # the room feed brought the beat
        phones[0].get_by_label("Your word").fill("talkin")
        rerun_after(phones[0], phones[0].get_by_role("button", name="Send").click)
        expect(phones[0].get_by_text(re.compile("not in the model's vocabulary. Did you mean .*talking"))).to_be_visible()
        for phone, word in zip(phones, ["Talking", "talking", "forget", "dress", "dress"], strict=True):
            phone.get_by_label("Your word").fill(word)
            rerun_after(phone, phone.get_by_role("button", name="Send").click)
            expect(phone.get_by_text("Waiting for the reveal")).to_be_visible()
        expect(speaker.get_by_text("5 of 5 answered")).to_be_visible()
        expect(stage.get_by_text("5 of 5 answered")).to_be_visible()
        press(speaker)  # → reveals the question first
        expect(stage.get_by_text("The model said")).to_be_visible()
        expect(stage.get_by_text("✓ talking")).to_be_visible()
        stage_is_a_stage(stage)
        stage.screenshot(path=str(app_server.log_path.parent / "talk--stage-word-guess.png"))
        stage.screenshot(path=str(SCREENSHOTS / "talk-stage.png"))  # the README's picture of the stage
        expect(phones[0].get_by_text(re.compile(r"Your answer: talking · \d points?"))).to_be_visible()
        expect(phones[0].get_by_text(re.compile(r"^1st of 5 · "))).to_be_visible()
        stage_is_readable(stage, axe_script, "a word guess revealed")

        # t-SNE: the room's words land in the model's 3D cloud as they are sent, labelled with their counts
        while f"Now: {first['explorer']}." not in speaker.inner_text("body"):
            press(speaker)
        expect(stage.locator(POINT_CLOUD)).to_be_visible()
        phones[2].get_by_label("Your word").fill("drress")
        rerun_after(phones[2], phones[2].get_by_role("button", name="Send").click)
        expect(phones[2].get_by_text(re.compile("not in the model's vocabulary. Did you mean .*dress"))).to_be_visible()
        for phone, word in zip(phones, ["silk", "Silk", "dress", "DRESS", "linen"], strict=True):
            phone.get_by_label("Your word").fill(word)
            rerun_after(phone, phone.get_by_role("button", name="Send").click)
            expect(phone.get_by_text("Look at the big screen")).to_be_visible()
        expect(stage.get_by_text("5 of 5 placed a word")).to_be_visible()
        for label in ("dress · 2", "silk · 2", "linen · 1"):
            drawn = stage.locator(f'{POINT_CLOUD.split(" canvas")[0]} .label:text-is("{label}")')
            expect(drawn).to_be_visible()  # placed, not left out for lack of room
            assert drawn.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)") >= 28  # projector size
        stage_is_a_stage(stage)
        stage_is_readable(stage, axe_script, "the room's words in the 3D cloud")
        stage.screenshot(path=str(SCREENSHOTS / "talk-stage-cloud.png"))

        while f"Now: {first['choice']}." not in speaker.inner_text("body"):
            press(speaker)
        for index, phone in enumerate(phones):
            tile = phone.get_by_role("button", name="▲ queen" if index < 3 else "◆ prince")
            expect(tile).to_be_visible()
            rerun_after(phone, tile.click)
        expect(speaker.get_by_text("5 of 5 answered")).to_be_visible()
        press(speaker, "r")
        expect(stage.get_by_text("▲ queen · 3 ✓")).to_be_visible()
        stage_is_a_stage(stage)
        stage_is_readable(stage, axe_script, "a choice poll revealed")
        stage.screenshot(path=str(app_server.log_path.parent / "talk--stage-choice.png"))
        phones[0].screenshot(path=str(SCREENSHOTS / "talk-phone.png"))  # and of a phone answering

        while f"Now: {first['estimate']}." not in speaker.inner_text("body"):
            press(speaker)
        for index, phone in enumerate(phones):
            slider = phone.get_by_role("slider")
            expect(slider).to_be_visible()
            if index == 3:
                slider.press("Home")  # Dan says 0 %: the right answer
            rerun_after(phone, phone.get_by_role("button", name="Send").click)
        expect(speaker.get_by_text("5 of 5 answered")).to_be_visible()
        press(speaker)
        expect(stage.get_by_text("Closest: Dan")).to_be_visible()
        stage_is_readable(stage, axe_script, "an estimate revealed")

        # LSTM gates: a phone's sentence on the stage, the latest until the speaker puts another on it
        while f"Now: {first['gates']}." not in speaker.inner_text("body"):
            press(speaker)
        for phone, sentence in ((phones[2], "the <b>silk</b> dress fits"), (phones[1], "i love this dress")):
            phone.get_by_label("Your sentence").fill(sentence)
            rerun_after(phone, phone.get_by_role("button", name="Send").click)
            expect(phone.get_by_text("Look at the big screen")).to_be_visible()
        expect(stage.get_by_text(re.compile("^Bob's sentence · 2 of 5 sent one"))).to_be_visible()
        rerun_after(speaker, speaker.get_by_role("button", name="On stage").first.click)
        expect(stage.get_by_text(re.compile("^<b>Carol</b>'s sentence"))).to_be_visible()
        expect(stage.locator(".atelier-text").first).to_contain_text("the <b>silk</b> dress fits")  # text, never HTML
        stage_is_a_stage(stage)
        stage_is_readable(stage, axe_script, "a phone's sentence through the gates (its coloured letters too)")

        while f"Now: {first['fake_or_real']}." not in speaker.inner_text("body"):
            press(speaker)
        press(speaker)  # → deals the first sentence
        for phone in phones:
            button = phone.get_by_role("button", name="🧑 Human")
            expect(button).to_be_visible()
            expect(phone.get_by_text("+2 if right, -3 if wrong")).to_be_visible()  # the stakes spelled out
            rerun_after(phone, button.click)
        expect(stage.get_by_text(re.compile("5 of 5 voted"))).to_be_visible()
        press(speaker)  # → reveals it
        expect(stage.get_by_text(re.compile(r"^Written by (a person|the LSTM)\.$"))).to_be_visible()
        while f"Now: {len(talk.beats)}." not in speaker.inner_text("body"):
            press(speaker)
        expect(stage.get_by_text(re.compile("^🥇 ")).first).to_be_visible()
        # the room against the machines, per deck the talk's rounds played (each deck has its detectors' figures)
        expect(stage.get_by_text("The room against the machines").first).to_be_visible()
        expect(stage.get_by_text(re.compile(r"deck: .*best machine right \d+%")).first).to_be_visible()
        stage_is_a_stage(stage)
        stage_is_readable(stage, axe_script, "the podium")

        for page in [stage, *phones]:
            assert secret not in page.content()  # the speaker's key never leaves the speaker view
        stage.screenshot(path=str(app_server.log_path.parent / "talk--stage.png"))
        phones[0].screenshot(path=str(app_server.log_path.parent / "talk--phone.png"))

        # After the talk: the results page the speaker view links to, by the room's code alone
        link = speaker.get_by_role("link", name="results page")
        assert link.get_attribute("href").endswith(f"results?room={code}")
        results = phones[3]
        results.goto(f"{app_server.url}/results?room={code}")
        wait_for_app(results)
        expect(results.get_by_text("🥇", exact=False).first).to_be_visible()
        expect(results.get_by_text("The model:").first).to_be_visible()
        with results.expect_download() as download:
            results.get_by_role("button", name="The answers per beat (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert {"talking", "queen", "silk", "the <b>silk</b> dress fits"} <= {r["answer"] for r in rows}
        assert secret not in results.content() and secret not in results.url
    finally:
        for context in contexts:
            context.close()
        (app_server.log_path.parent / "talk--contrast.txt").write_text(
            "".join(f"{state}: lowest text contrast {ratio}:1\n" for state, ratio in contrasts.items()))
