"""bench/blind_read.py: the sheet a blind reader sees holds no label, its key matches it, and a
hand-made answer file is scored right (per deck, per class, sure calls, confusion)."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest

from app.catalog import models
from app.data.corpus import WIKI, load_corpus
from app.game import decks, quiz
from bench import blind_read

SPECS = [blind_read.DeckSpec.parse(f"{WIKI}/char-lstm/hard"), blind_read.DeckSpec.parse(f"{WIKI}/char-lstm/easy:6")]


def item_lines(sheet_text: str) -> list[str]:
    """The sheet's item lines: after the instructions (whose example answers are indented)."""
    return [line for line in sheet_text.splitlines() if re.match(r"s\d+  ", line)]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    supply = quiz.GameSupply.of(WIKI, models.load_language_model(WIKI))
    items = blind_read.make_sheet({WIKI: supply}, SPECS, 12, random.Random(5))
    folder = tmp_path_factory.mktemp("sheet")
    (folder / "sheet.txt").write_text(blind_read.sheet_text(items), encoding="utf-8")
    (folder / "key.tsv").write_text(blind_read.key_text(items), encoding="utf-8")
    return items, folder


def test_the_sheet_holds_every_dealt_sentence_and_no_label(sheet):
    items, folder = sheet
    text = (folder / "sheet.txt").read_text(encoding="utf-8")
    lines = item_lines(text)
    assert [line.split("  ", 1)[0] for line in lines] == [f"s{n:02d}" for n in range(1, len(items) + 1)]
    for line in lines:
        assert "\t" not in line and WIKI not in line and "char-lstm" not in line
        assert not any(line.endswith(f" {label}") for label in (blind_read.REAL, blind_read.FAKE))
    assert "/hard" not in text and "/easy" not in text
    # half real per deck (18 sentences: 12 of hard, 6 of easy), fakes from the deck, reals from the test split
    assert len(items) == 18
    reals = set(decks.real_sentences(load_corpus(WIKI), "test"))
    stored = decks.load_stored_decks(WIKI)
    for spec in SPECS:
        of_deck = [i for i in items if i.deck == spec.name]
        assert sum(i.real for i in of_deck) == len(of_deck) // 2
        assert all(i.text in reals if i.real else i.text in stored.texts(spec.difficulty) for i in of_deck)
    assert [i.real for i in items] != sorted(i.real for i in items)  # shuffled together


def test_the_key_matches_the_sheet(sheet):
    items, folder = sheet
    key = blind_read.read_key(folder / "key.tsv")
    assert list(key) == [i.id for i in items]
    sheet_lines = item_lines((folder / "sheet.txt").read_text(encoding="utf-8"))
    for line, item in zip(sheet_lines, items, strict=True):
        assert line == f"{item.id}  {key[item.id].text}" and key[item.id] == item


def test_a_hand_made_answer_file_is_scored_right():
    key = {i.id: i for i in [
        blind_read.Item("s1", "a", True, "x/char-lstm/normal"), blind_read.Item("s2", "b", False, "x/char-lstm/normal"),
        blind_read.Item("s3", "c", True, "x/char-lstm/normal"), blind_read.Item("s4", "d", False, "x/char-lstm/normal"),
        blind_read.Item("s5", "e", False, "x/char-lstm/hard"), blind_read.Item("s6", "f", True, "x/char-lstm/hard")]}
    answers = blind_read.read_answers("# reader 1\ns1 real sure\ns2 fake sure\n\ns3 fake\ns4 real SURE\n"
                                      "s5 real\n", key)
    tallies, unanswered = blind_read.score(key, answers)
    assert unanswered == 1
    normal, hard, everything = tallies["x/char-lstm/normal"], tallies["x/char-lstm/hard"], tallies["all"]
    assert normal.answered == 4 and normal.accuracy() == 0.5
    assert normal.accuracy("real") == 0.5 and normal.accuracy("fake") == 0.5
    assert (normal.sure, normal.sure_right) == (3, 2)
    assert hard.accuracy() == 0 and hard.accuracy("fake") == 0
    assert everything.confusion == {("real", "real"): 1, ("real", "fake"): 1, ("fake", "fake"): 1, ("fake", "real"): 2}
    table = blind_read.report(tallies, unanswered)
    assert "| x/char-lstm/normal | 4 | 50.0% | 50.0% | 50.0% | 3 | 66.7% |" in table
    assert "| fake | 2 | 1 |" in table and "1 items unanswered" in table
    for bad in ("s9 real", "s1 maybe", "s1 real sure now", "s1 real\ns1 fake"):
        with pytest.raises(ValueError):
            blind_read.read_answers(bad, key)


def test_the_command_scores_an_answer_file(sheet, tmp_path):
    items, folder = sheet
    answers = tmp_path / "answers.txt"
    answers.write_text("".join(f"{i.id} {'real' if i.real else 'fake'} sure\n" for i in items), encoding="utf-8")
    run = subprocess.run([sys.executable, "bench/blind_read.py", "--score", str(answers), "--key",
                          str(folder / "key.tsv")], capture_output=True, text=True, check=True)
    assert f"| all | {len(items)} | 100.0% | 100.0% | 100.0% | {len(items)} | 100.0% |" in run.stdout
