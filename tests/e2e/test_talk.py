"""Talk mode in the browser: the speaker view on the laptop, the stage at 1920 × 1080, and five phones go
through the default talk, which has a beat of every kind, with the speaker's keyboard alone.

Checked on the way: the phones follow the stage, answers are counted and scored, the speaker's key never
reaches the stage or the phones, and the stage is a stage (no sidebar or toolbar showing, headline
>= 56 px and body >= 32 px in computed styles, each beat within 1080 px)."""

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from app.game.talk import load_talk
from app.serving.site import SCREENSHOTS
from tests.e2e.conftest import PHONE, needs_page
from tests.e2e.harness import rerun_after, wait_for_app

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


def test_a_talk_of_every_beat_kind_with_five_phones(open_app, browser, app_server):
    talk = load_talk()
    first = {kind: next(b.number for b in talk.beats if b.kind == kind)
             for kind in ("word_guess", "choice", "estimate", "fake_or_real")}
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

        press(speaker, "q")  # Q: the QR code on the stage, by the public address only
        expect(stage.get_by_text(f"Join on your phone · room {code}")).to_be_visible()
        stage_is_a_stage(stage)
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
        stage_is_a_stage(stage)

        for page in [stage, *phones]:
            assert secret not in page.content()  # the speaker's key never leaves the speaker view
        stage.screenshot(path=str(app_server.log_path.parent / "talk--stage.png"))
        phones[0].screenshot(path=str(app_server.log_path.parent / "talk--phone.png"))
    finally:
        for context in contexts:
            context.close()
