"""Fake or real? in the browser: play a whole game, enter the leaderboard, find your row on the board."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/fake_or_real.py")

ROUNDS = 10
GAME_TIMEOUT = 120_000  # the first game of a fresh server waits for the LSTM to write its fakes


def answer_round(page) -> None:
    """Say "Human" (or "A is real" in pair mode), then go on once the reveal is shown."""
    human = page.get_by_role("button", name=re.compile("Human|A is real"))
    rerun_after(page, human.click)
    verdict = page.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"^(Right|Wrong)!"))
    expect(verdict).to_be_visible()
    onward = page.get_by_role("button", name=re.compile("Next round|See your score"))
    rerun_after(page, onward.click)


def test_a_whole_game_ends_on_the_leaderboard(open_app):
    page = open_app("fake-or-real")
    rerun_after(page, page.get_by_role("button", name="New game").click)
    for number in range(1, ROUNDS + 1):
        expect(page.get_by_text(f"Round {number} of {ROUNDS}")).to_be_visible(timeout=GAME_TIMEOUT)
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
