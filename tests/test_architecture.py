"""The import graph is a tree, as DEVELOPERS.md draws it: pages → app.ui → app, never back.

Read from the source with ``ast``, so a forbidden import fails here even on a path no other test runs.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOGIC = sorted(p for p in (ROOT / "app").rglob("*.py") if "ui" not in p.relative_to(ROOT / "app").parts)
ALLOWED_STREAMLIT = {ROOT / "app" / "launch.py"}  # starts the server; draws nothing


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, by full dotted name (``from app import ui`` gives ``app.ui``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_logic_files_are_found():
    assert {"quiz.py", "room.py", "train.py", "embeddings.py"} <= {p.name for p in LOGIC}
    assert not any(p.parent.name == "ui" for p in LOGIC)


@pytest.mark.parametrize("path", LOGIC, ids=lambda p: str(p.relative_to(ROOT)))
def test_logic_never_imports_streamlit_the_ui_or_pages(path):
    imports = imported_modules(path)
    assert not {name for name in imports if name == "app.ui" or name.startswith("app.ui.")}, "app → app.ui is backwards"
    assert not {name for name in imports if name.split(".")[0] == "pages"}, "app → pages is backwards"
    if path not in ALLOWED_STREAMLIT:
        assert not {name for name in imports if name.split(".")[0] == "streamlit"}, "Streamlit belongs in app/ui/"


@pytest.mark.parametrize("path", sorted((ROOT / "app" / "ui").glob("*.py")), ids=lambda p: p.name)
def test_ui_helpers_never_import_pages(path):
    assert not {name for name in imported_modules(path) if name.split(".")[0] == "pages"}


def test_no_file_prefix_repeats_where_a_folder_would_say_it():
    stems = [p.stem for p in (ROOT / "app").glob("*.py")]
    prefixes = [stem.split("_")[0] for stem in stems if "_" in stem]
    repeated = {prefix for prefix in prefixes if prefixes.count(prefix) > 2}
    assert not repeated, f"make a folder for {sorted(repeated)}"
