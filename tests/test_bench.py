"""bench/: every module imports, no two import each other (directly or round a loop), one Visitor for
all, and each table a script writes into docs/ has its markers there, under the columns the script writes.
Also room_load's talk scenario, run for real with a few phones."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.doc_tables import DOC_TABLES, KEY_COLUMNS, ROOT, current_table, markers, merged

BENCH = ROOT / "bench"
MODULES = sorted(path.stem for path in BENCH.glob("*.py") if path.stem != "__init__")


def bench_imports(path: Path) -> dict[str, set[str]]:
    """bench modules a bench module imports (anywhere in it, functions included) -> the names it takes."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "bench":
            for alias in node.names:
                found.setdefault(alias.name, set())
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench."):
            found.setdefault(node.module.removeprefix("bench."), set()).update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bench."):
                    found.setdefault(alias.name.removeprefix("bench."), set())
    return found


GRAPH = {name: bench_imports(BENCH / f"{name}.py") for name in MODULES}


@pytest.mark.parametrize("name", MODULES)
def test_every_bench_module_imports(name):
    importlib.import_module(f"bench.{name}")


def test_no_import_loop_between_bench_modules():
    def loop_from(start: str, at: str, path: list[str]) -> list[str] | None:
        for imported in GRAPH.get(at, {}):
            if imported == start:
                return [*path, imported]
            if imported not in path:
                if found := loop_from(start, imported, [*path, imported]):
                    return found
        return None

    loops = [" → ".join(loop) for name in MODULES if (loop := loop_from(name, name, [name]))]
    assert not loops, f"bench modules import each other: {loops}"


def test_one_visitor_for_every_bench_script():
    """Visitor lives in bench/visitor.py and is taken from there, never through another module."""
    for name, imports in GRAPH.items():
        for module, names in imports.items():
            if module != "visitor":
                assert not names & {"Visitor", "ScriptRun"}, f"bench/{name}.py takes Visitor from bench/{module}.py"
    defined = {name for name in MODULES
               for node in ast.walk(ast.parse((BENCH / f"{name}.py").read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef) and node.name.endswith(("Visitor", "Tab"))}
    assert defined == {"visitor"}


@pytest.mark.parametrize(("script", "doc", "name"), DOC_TABLES)
def test_docs_have_the_markers_of_each_bench_table(script, doc, name):
    text = (ROOT / doc).read_text(encoding="utf-8")
    begin, end = markers(name)
    assert text.count(begin) == 1 and text.count(end) == 1, f"{doc} needs {begin} … {end} around {script}'s table"
    assert text.index(begin) < text.index(end)
    table = current_table(script, name).splitlines()
    assert len(table) >= 3 and all(line.startswith("|") for line in table), f"{doc}'s {name} markers hold no table"
    source = (ROOT / script).read_text(encoding="utf-8")
    assert f'add_write_docs_flag(parser, "{script}")' in source and f'write_docs("{script}"' in source


def rendered_tables() -> dict[str, str]:
    """Each docs table's markdown as its script writes it, rendered from no rows (or one made-up run), by name."""
    from bench import baselines, decoding, detectability, load, room_load, run, train_cpu, upload_preview

    room = {"phones": 10, "round_seen_p95_s": 0.2, "vote_window_s": 0.1, "votes_in_db": 10, "tally_after_s": 0.0}
    talk = {"phones": 10, "beats": [{"kind": "word_guess", "answers_in_db": 10}, {"kind": "choice", "answers_in_db": 10}],
            "seen_p95_s": 0.3, "answer_window_max_s": 0.2, "all_counted": True, "stage_after_p95_s": 0.4,
            "server_cpu_per_phone_ms": 8.0, "load": (1.0, 2.0)}
    return {
        "benchmarks": run.markdown_table([]),
        "baselines": baselines.table([], []),
        "train-cpu": train_cpu.table([]),
        "detectability": detectability.table([]),
        "decoding": decoding.table([]),
        "load": load.docs_table([], SimpleNamespace(peak=0, cpu_seconds=0.0), 0, 0, "server", 3, 30),
        "room-load": room_load.docs_table(room, "server"),
        "talk-load": room_load.talk_docs_table(talk, "server"),
        "upload-preview": upload_preview.table([]),
    }


@pytest.mark.parametrize(("script", "doc", "name"), DOC_TABLES)
def test_each_script_writes_the_columns_its_docs_table_has(script, doc, name):
    ours = rendered_tables()[name].splitlines()
    theirs = current_table(script, name).splitlines()
    assert ours[:2] == theirs[:2], f"{script} writes other columns than {doc}'s {name} table"
    assert all(row.count("|") == ours[0].count("|") for row in ours[2:])


@pytest.mark.parametrize(("script", "doc", "name"), DOC_TABLES)
def test_writing_the_current_table_back_changes_nothing(script, doc, name):
    table = current_table(script, name)
    assert merged(table, table, KEY_COLUMNS[name]) == table, f"two rows of {doc}'s {name} table have one key"


def test_merged_replaces_the_rows_of_the_same_key_and_keeps_the_others():
    current = "| a | b | v |\n|---|---|---|\n| x | 1 | old |\n| y | 1 | kept |"
    new = "| a | b | v |\n|---|---|---|\n| x | 1 | new |\n| z | 2 | added |"
    assert merged(current, new, 2).splitlines()[2:] == ["| x | 1 | new |", "| y | 1 | kept |", "| z | 2 | added |"]


@pytest.mark.parametrize(("script", "doc", "name"), DOC_TABLES)
def test_write_docs_puts_the_table_between_the_markers(script, doc, name, tmp_path, monkeypatch):
    """On a copy of the page: the table written back as it is leaves the page as it was; a new run's
    row lands between the markers and the rest of the page stays."""
    from bench import doc_tables

    page = tmp_path / doc
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(original := (ROOT / doc).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(doc_tables, "ROOT", tmp_path)
    table = current_table(script, name)
    doc_tables.write_docs(script, table, merge=True, name=name)
    assert page.read_text(encoding="utf-8") == original
    header = table.splitlines()[:2]
    made_up = "| " + " | ".join(["made-up"] * (header[0].count("|") - 1)) + " |"
    doc_tables.write_docs(script, "\n".join([*header, made_up]), merge=True, name=name)
    written = page.read_text(encoding="utf-8")
    assert made_up in current_table(script, name) and table.splitlines()[2] in written
    before, after = original.split(markers(name)[0])[0], original.split(markers(name)[1])[1]
    assert written.startswith(before) and written.endswith(after)


def test_a_script_with_several_tables_names_the_one_it_writes():
    from bench import doc_tables

    assert doc_tables.doc_table("bench/room_load.py", "talk-load")[1] == "talk-load"
    assert doc_tables.doc_table("bench/room_load.py")[1] == "room-load"  # its first, when none is named
    with pytest.raises(KeyError):
        doc_tables.doc_table("bench/room_load.py", "load")  # bench/load.py's


@pytest.mark.slow
def test_the_talk_scenario_counts_every_answer_of_a_few_phones(capsys):
    """room_load --scenario talk, for real on its own one-process server: 3 phones answer each word guess
    and the poll of the default talk; every answer is in the database, the stage shows them all."""
    from app.game.talk import CHOICE, WORD_GUESS, load_talk
    from bench import room_load

    kinds = [beat.kind for beat in load_talk().beats if beat.kind in (WORD_GUESS, CHOICE)]
    assert room_load.main(["--scenario", "talk", "--phones", "3"]) == 0
    printed = capsys.readouterr().out
    summary = printed.strip().splitlines()[-1]
    assert "phones=3 errors=0" in summary and f"answers_in_db={'/'.join(['3'] * len(kinds))}" in summary
    row = [line for line in printed.splitlines() if line.startswith("| one process")][0]
    beats = f"{kinds.count(WORD_GUESS)} word guesses, {kinds.count(CHOICE)} poll"
    assert f"| 3 | {beats} |" in row and "| all |" in row
    assert float(summary.split("stage_after_p95_s=")[1].split()[0]) < 60  # the stage showed "3 of 3 answered"
