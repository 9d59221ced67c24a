"""The tables that bench scripts measure, and the docs pages that show them.

A script that prints a results table writes it into its page with ``--write-docs`` (the default only
prints, so a quick run does not overwrite measured figures), between ``<!-- name:begin -->`` and
``<!-- name:end -->`` (``app.catalog.cards.write_doc_table``, as the model cards are written).
A table that gathers several runs (one row per server, per size, per deck) keeps the rows of the
other runs: the new rows replace the rows with the same key (the first ``KEY_COLUMNS`` cells of that
table), and the others stay. tests/test_bench.py checks every page has its markers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (script, docs page, table name): the page holds <!-- name:begin --> the table <!-- name:end -->; a script
# with several tables (one per scenario) names the one it writes
DOC_TABLES = [
    ("bench/run.py", "docs/benchmarks.md", "benchmarks"),
    ("bench/baselines.py", "docs/models.md", "baselines"),
    ("bench/train_cpu.py", "docs/models.md", "train-cpu"),
    ("bench/detectability.py", "docs/fakes.md", "detectability"),
    ("bench/decoding.py", "docs/fakes.md", "decoding"),
    ("bench/load.py", "docs/serving.md", "load"),
    ("bench/room_load.py", "docs/serving.md", "room-load"),
    ("bench/room_load.py", "docs/serving.md", "talk-load"),
    ("bench/upload_preview.py", "docs/benchmarks.md", "upload-preview"),
]

# a run's rows replace the rows with the same first KEY_COLUMNS cells (the metric; the deck, writer and
# difficulty; the server and its load): the rows of other runs stay. By table name.
KEY_COLUMNS = {"benchmarks": 1, "baselines": 2, "train-cpu": 2, "detectability": 3, "decoding": 2, "load": 4, "room-load": 2,
               "talk-load": 2, "upload-preview": 1}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def doc_table(script: str, name: str | None = None) -> tuple[Path, str]:
    """(docs page, table name) of a script's table: its only one, or the one called ``name``."""
    for known, doc, table in DOC_TABLES:
        if known == script and name in (None, table):
            return ROOT / doc, table
    raise KeyError(f"{script} writes no table {name or ''} into docs/ (bench/doc_tables.py DOC_TABLES)")


def current_table(script: str, name: str | None = None) -> str:
    """The table the script's page shows now (the text between its markers)."""
    path, name = doc_table(script, name)
    begin, end = markers(name)
    found = re.search(re.escape(begin) + "(.*?)" + re.escape(end), path.read_text(encoding="utf-8"), flags=re.S)
    if found is None:
        raise ValueError(f"{path} has no {begin} … {end} markers for the table")
    return found.group(1).strip()


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def merged(current: str, new: str, key_columns: int) -> str:
    """``new``'s header and rows, and the rows of ``current`` whose key (first ``key_columns``
    cells) no new row has, in their place; new rows with another key come at the end."""
    new_lines = new.strip().splitlines()
    header, rows = new_lines[:2], new_lines[2:]
    by_key = {tuple(cells(row)[:key_columns]): row for row in rows}
    lines, used = [], set()
    for row in current.strip().splitlines()[2:]:
        key = tuple(cells(row)[:key_columns])
        if key in by_key:
            if key not in used:
                lines.append(by_key[key])
                used.add(key)
        else:
            lines.append(row)
    lines += [row for key, row in by_key.items() if key not in used]
    return "\n".join(header + lines)


def write_docs(script: str, table: str, merge: bool = False, name: str | None = None) -> Path:
    """Write ``table`` into the script's docs page (its table ``name`` when it has several): the whole
    table, or (merge) its rows merged into the rows of other runs already there (by KEY_COLUMNS)."""
    from app.catalog.cards import write_doc_table

    path, name = doc_table(script, name)
    if merge:
        table = merged(current_table(script, name), table, KEY_COLUMNS[name])
    write_doc_table(path, name, table)
    print(f"written into {path.relative_to(ROOT)} ({name} table)")
    return path


def add_write_docs_flag(parser: argparse.ArgumentParser, script: str) -> None:
    tables = [(doc, name) for known, doc, name in DOC_TABLES if known == script]
    if not tables:
        doc_table(script)  # says which script has no table
    where = ", ".join(f"{doc} ({name})" for doc, name in tables)
    parser.add_argument("--write-docs", action="store_true", help=f"also write the table into {where}; default: print only")
