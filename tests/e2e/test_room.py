"""Room mode in the browser: a presenter's screen and five phones play three rounds together.

Each vote is counted exactly (on the presenter's tally and in the database), the reveal and the podium
appear (with the room against the machines), a phone cannot run the room, a double vote and a vote after
the countdown are refused, a reloaded phone is still the same player, and the room's address opened again
after the game shows its results and that phone's place. A phone whose timers are stopped (its room watcher among them)
keeps showing its vote buttons while the server moves on: that is how a slow phone votes late or twice.
"""

import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, needs_page
from tests.e2e.harness import rerun_after, wait_for_app

pytestmark = needs_page("pages/present.py")

NAMES = ["Alice", "Alice", "Bob", "<b>Carol</b>", "Dan"]
COUNTDOWN = 25  # seconds: room for five phones to vote on a busy 2-core machine, short enough to wait out once
DEAL_TIMEOUT = 180_000  # the first room of a fresh server waits for the deck and the LSTM's fakes


def votes_in(database_url: str, code: str) -> dict[int, int]:
    """Votes per round number of room ``code``, straight from the database (the server's other tests
    play rooms of their own in it)."""
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT r.number, count(*) FROM room_votes v JOIN room_rounds r ON r.id = v.round_id "
                          "JOIN rooms ON rooms.id = r.room_id WHERE rooms.code = ? GROUP BY r.number",
                          (code,)).fetchall()
    return dict(rows)


def join(phone, url: str, nickname: str) -> None:
    phone.goto(url)
    wait_for_app(phone)
    phone.get_by_label("Nickname", exact=True).fill(nickname)
    rerun_after(phone, phone.get_by_role("button", name="Join").click)
    expect(phone.get_by_text("Waiting for the first sentence")).to_be_visible()


def vote(phone, says_human: bool) -> None:
    button = phone.get_by_role("button", name="🧑 Human" if says_human else "🤖 LSTM")
    expect(button).to_be_visible()  # the phone's watcher has seen the round start
    rerun_after(phone, button.click)
    expect(phone.get_by_text("Your vote:")).to_be_visible()


def freeze(phone) -> None:
    """Stop the phone's timers (its room watcher's among them, and any it would start again when redrawn):
    it keeps showing what it showed, like a phone gone quiet, while a click still reaches the server."""
    phone.evaluate("() => { const last = setInterval(() => {}, 1e6); for (let id = 1; id <= last; id++) clearInterval(id);"
                   " window.setInterval = () => 0; }")


def test_a_room_plays_three_rounds_from_five_phones(open_app, browser, app_server):
    presenter = open_app("present")
    presenter.get_by_label("Countdown (seconds)").fill(str(COUNTDOWN))
    presenter.get_by_label("Countdown (seconds)").press("Tab")
    presenter.get_by_label("Rounds").fill("3")
    presenter.get_by_label("Rounds").press("Tab")
    rerun_after(presenter, presenter.get_by_role("button", name="Create the room").click, timeout=DEAL_TIMEOUT)
    expect(presenter.get_by_text("Room code")).to_be_visible(timeout=DEAL_TIMEOUT)
    query = parse_qs(urlsplit(presenter.url).query)
    code, secret = query["room"][0], query["key"][0]
    play_url = f"{app_server.url}/play?room={code}"

    contexts = [browser.new_context(**PHONE) for _ in NAMES]
    try:
        phones = [context.new_page() for context in contexts]
        for phone, name in zip(phones, NAMES, strict=True):
            join(phone, play_url, name)
        expect(phones[1].get_by_text("Alice #2")).to_be_visible()  # two Alices, two players, shown apart
        expect(phones[3].get_by_text("<b>Carol</b>")).to_be_visible()  # a name is text, never HTML
        assert not any(secret in phone.content() for phone in phones)  # phones never see the presenter key
        expect(presenter.get_by_text("5 joined")).to_be_visible()

        # A phone cannot run the room: the presenter's page without the key (or with a player token) refuses.
        intruder = phones[4].context.new_page()
        token = parse_qs(urlsplit(phones[4].url).query)["player"][0]
        for address in (f"{app_server.url}/present?room={code}", f"{app_server.url}/present?room={code}&key={token}"):
            intruder.goto(address)
            wait_for_app(intruder)
            expect(intruder.get_by_text("Only the screen that created this room can run it.")).to_be_visible()
            expect(intruder.get_by_role("button", name=re.compile("Start|Reveal"))).to_have_count(0)
        intruder.close()

        # Round 1: everyone votes; Alice's link is also open in another browser, which goes quiet and votes again.
        contexts.append(browser.new_context(**PHONE))
        second_tab = contexts[-1].new_page()
        second_tab.goto(phones[0].url)
        wait_for_app(second_tab)
        rerun_after(presenter, presenter.get_by_role("button", name="Start round 1").click)
        expect(second_tab.get_by_role("button", name="🧑 Human")).to_be_visible()
        freeze(second_tab)
        for number, phone in enumerate(phones):
            vote(phone, says_human=number % 2 == 0)
        expect(presenter.get_by_text("5 of 5 voted")).to_be_visible()
        second_tab.get_by_role("button", name="🤖 LSTM").click()
        expect(second_tab.get_by_text("You have already voted on this sentence.")).to_be_visible()
        second_tab.close()
        rerun_after(presenter, presenter.get_by_role("button", name="Reveal").click)
        expect(presenter.get_by_text(re.compile(r"^It was written by"))).to_be_visible()
        expect(presenter.get_by_text(re.compile(r"Human: 3 votes \(60%\)"))).to_be_visible()
        expect(presenter.get_by_text(re.compile(r"LSTM: 2 votes \(40%\)"))).to_be_visible()
        expect(presenter.get_by_text("model's surprise (nats/char)").first).to_be_visible()
        for phone in phones:
            expect(phone.get_by_text(re.compile(r"^(Right|Wrong)! [+-]\d point"))).to_be_visible()
            expect(phone.get_by_text(re.compile(r"^\d(st|nd|rd|th) of 5 · -?\d+ points?$"))).to_be_visible()

        # Round 2: phone 2 reloads before voting and is still Bob, with one vote.
        rerun_after(presenter, presenter.get_by_role("button", name="Start round 2").click)
        phones[2].reload()
        wait_for_app(phones[2])
        expect(phones[2].get_by_text(re.compile(r"^Bob · room"))).to_be_visible()
        for number, phone in enumerate(phones):
            vote(phone, says_human=number < 4)
        expect(presenter.get_by_text("5 of 5 voted")).to_be_visible()
        rerun_after(presenter, presenter.get_by_role("button", name="Reveal").click)
        expect(presenter.get_by_text(re.compile(r"Human: 4 votes \(80%\)"))).to_be_visible()

        # Round 3: phone 4 goes quiet, and votes after the countdown: refused.
        rerun_after(presenter, presenter.get_by_role("button", name="Start round 3").click)
        expect(phones[4].get_by_role("button", name="🧑 Human")).to_be_visible()
        freeze(phones[4])
        for phone in phones[:4]:
            vote(phone, says_human=False)
        expect(presenter.get_by_text("Time's up")).to_be_visible(timeout=(COUNTDOWN + 10) * 1000)
        expect(presenter.get_by_text("4 of 5 voted")).to_be_visible()
        phones[4].get_by_role("button", name="🧑 Human").click()
        expect(phones[4].get_by_text("Too late: the countdown had ended")).to_be_visible()
        phones[4].reload()  # back online: the watcher runs again
        wait_for_app(phones[4])
        assert votes_in(app_server.database_url, code) == {1: 5, 2: 5, 3: 4}

        rerun_after(presenter, presenter.get_by_role("button", name="Reveal").click)
        expect(presenter.get_by_text(re.compile(r"LSTM: 4 votes \(100%\)"))).to_be_visible()
        rerun_after(presenter, presenter.get_by_role("button", name="Show the podium").click)
        expect(presenter.get_by_text("The podium")).to_be_visible()
        expect(presenter.get_by_text(re.compile("^🥇 ")).first).to_be_visible()  # players tied first share gold
        board = presenter.locator('[data-testid="stDataFrame"]').first
        expect(board).to_be_visible()
        for phone in phones:
            expect(phone.get_by_text("Game over: thanks for playing!")).to_be_visible()
        phones[0].screenshot(path=str(app_server.log_path.parent / "room--phone.png"))
        # the room against the machines, per deck played, in whole percents
        expect(presenter.get_by_text(re.compile(r"best machine right \d+% \("))).to_be_visible()
        expect(presenter.get_by_text(re.compile(r"this room fooled \d+% of the time|No one voted on a fake"))).to_be_visible()

        # The room's address scanned again after the game: over at once, with the results and this browser's place
        phones[0].goto(play_url)
        wait_for_app(phones[0])
        expect(phones[0].get_by_text(f"Room {code}'s game is over")).to_be_visible()
        expect(phones[0].get_by_label("Nickname", exact=True)).to_have_count(0)
        expect(phones[0].get_by_text(re.compile(r"^Alice: \d(st|nd|rd|th) of 5 · -?\d+ points?$"))).to_be_visible()
    finally:
        for context in contexts:
            context.close()
