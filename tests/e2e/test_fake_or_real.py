"""Fake or real? in the browser: a phone's first screen after New game, a whole game, the leaderboard."""

import re
import time

from playwright.sync_api import expect

from app.ui import quiz as ui_quiz
from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/fake_or_real.py")

ROUNDS = 10
PHONE_HEIGHT = 844


def answer_round(page) -> None:
    """Say "Human" (or "A is real" in pair mode), then go on once the reveal is shown."""
    human = page.get_by_role("button", name=re.compile("Human|A is real"))
    rerun_after(page, human.click)
    verdict = page.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"^(Right|Wrong)!"))
    expect(verdict).to_be_visible()
    onward = page.get_by_role("button", name=re.compile("Next round|See your score"))
    rerun_after(page, onward.click)


# 30 long words (235 characters, made up here: no corpus text in tests): the longest sentence a deck plays is
# 30 words, about 200 characters
LONGEST = ("honestly the embroidered neckline looked gorgeous online, although the stretchy material wrinkled "
           "terribly after one gentle washing, so unfortunately i returned everything except the comfortable "
           "lightweight cardigan and matching scarf.")


def worst_cases() -> list[str]:
    """For each sentence size (ui_quiz.SENTENCE_SIZES), the longest sentence drawn at it: LONGEST cut at a word."""
    cases = []
    for longest, _ in ui_quiz.SENTENCE_SIZES:
        words = LONGEST.split()
        while longest is not None and len(" ".join(words)) > longest:
            words.pop()
        cases.append(" ".join(words))
    return cases


def first_screen_boxes(page) -> dict:
    """The card's caption, the sentence and both answers: each box, asserted to lie on the first screen."""
    boxes = {}
    for name, target in (("caption", page.get_by_text("Human or LSTM?", exact=True)),
                         ("sentence", page.locator(".quiz-sentence")), ("Human", page.get_by_role("button", name="Human")),
                         ("LSTM", page.get_by_role("button", name="LSTM"))):
        box = boxes[name] = target.first.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT, (name, box)
    return boxes


def test_on_a_phone_the_round_fills_the_first_screen(open_on_phone):
    """After New game, the sentence and both answer buttons are on the first screen, for the sentence dealt and
    for the longest of each size; settings are folded."""
    page = open_on_phone("fake-or-real")
    expect(page.get_by_text("Difficulty", exact=True).first).to_be_hidden()  # inside the folded settings
    started = time.perf_counter()
    page.get_by_role("button", name="New game").click()
    expect(page.get_by_text("Round 1 of 10")).to_be_visible()
    print(f"phone: New game → round 1 shown in {1000 * (time.perf_counter() - started):.0f} ms")
    boxes = first_screen_boxes(page)
    card = page.locator(".quiz-sentence")
    dealt = card.inner_text()
    print(f"dealt ({len(dealt)} characters): Human ends at {boxes['Human']['y'] + boxes['Human']['height']:.0f} px")
    assert card.evaluate("card => card.style.fontSize") == ui_quiz.sentence_size(dealt)
    human, lstm = boxes["Human"], boxes["LSTM"]
    assert abs(human["y"] - lstm["y"]) < 5 and human["width"] > 120  # side by side, thumb-sized
    # the worst case of each size, whatever was dealt: the card shows it as the page draws a sentence that long
    for text in worst_cases():
        card.evaluate("(card, [text, size]) => { card.style.fontSize = size; "
                      "card.querySelector('.atelier-text').textContent = text; }", [text, ui_quiz.sentence_size(text)])
        human = first_screen_boxes(page)["Human"]
        print(f"{len(text.split())} words, {len(text)} characters at {ui_quiz.sentence_size(text)}: Human ends at "
              f"{human['y'] + human['height']:.0f} px of {PHONE_HEIGHT}")


def test_a_whole_game_ends_on_the_leaderboard(open_app):
    page = open_app("fake-or-real")
    rerun_after(page, page.get_by_role("button", name="New game").click)
    for number in range(1, ROUNDS + 1):
        expect(page.get_by_text(f"Round {number} of {ROUNDS}")).to_be_visible()
        answer_round(page)

    expect(page.get_by_text("Game over")).to_be_visible()
    nickname = page.get_by_label("Nickname for the leaderboard")
    nickname.fill("e2e <b>tester</b>")
    rerun_after(page, page.get_by_role("button", name="Enter the leaderboard").click)
    expect(page.get_by_text("Your game is on the room's leaderboard.")).to_be_visible()

    # the board refreshes itself every few seconds; the nickname shows as plain text
    board = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator('[role="gridcell"]',
                                                                                has_text="e2e <b>tester</b>"))
    expect(board).to_have_count(1, timeout=30_000)
    assert page.locator("b", has_text="tester").count() == 0
