"""The import graph is the architecture DEVELOPERS.md and docs/layout.md draw: app's concern packages
in one layer order, then app.ui (the only Streamlit half), then pages/; never back, never in a loop.

Read from the source with ``ast``, so a forbidden import fails here even on a path no other test runs.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package may import only itself and the packages before it.
LAYERS = ["app.data", "app.storage", "app.vectors", "app.lm", "app.catalog", "app.lessons", "app.explorer",
          "app.game", "app.training", "app.serving", "app.ui"]
LOGIC = sorted(p for p in (ROOT / "app").rglob("*.py") if "ui" not in p.relative_to(ROOT / "app").parts)
STREAMLIT_SEAM = ROOT / "app" / "serving" / "streamlit_seam.py"  # the one place for Streamlit's non-public API
ALLOWED_STREAMLIT = {ROOT / "app" / "serving" / "launch.py", STREAMLIT_SEAM}  # start the server; draw nothing
# Imports inside a function, each saving measured start-up time (the reason is in a comment beside it).
LAZY_IMPORTS_ALLOWED = 12


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def layer_of(module: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if module == layer or module.startswith(layer + ".")), None)


def app_files() -> list[Path]:
    return sorted((ROOT / "app").rglob("*.py"))


def test_every_app_module_is_in_a_layer():
    loose = [module_name(p) for p in app_files() if p.parent != ROOT / "app" and layer_of(module_name(p)) is None]
    flat = [p.name for p in (ROOT / "app").glob("*.py") if p.name != "__init__.py"]
    assert not loose and not flat, f"a module outside the layers: {loose + flat}"


@pytest.mark.parametrize("path", app_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_point_down_the_layers(path):
    here = layer_of(module_name(path))
    if here is None:
        return  # app/__init__.py: the base every layer may read
    upward = {name for name in imported_modules(path) if (layer_of(name) or -1) > here}
    assert not upward, f"{module_name(path)} ({LAYERS[here]}) imports up the layers: {sorted(upward)}"


def test_no_import_loops_between_modules():
    modules = {module_name(p): p for p in app_files()}
    graph = {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}
    done, on_path = set(), []

    def visit(name):
        if name in on_path:
            raise AssertionError("import loop: " + " → ".join(on_path[on_path.index(name):] + [name]))
        if name in done:
            return
        on_path.append(name)
        for imported in graph[name]:
            visit(imported)
        on_path.pop()
        done.add(name)

    for name in graph:
        visit(name)


@pytest.mark.parametrize("path", LOGIC, ids=lambda p: str(p.relative_to(ROOT)))
def test_logic_never_imports_streamlit_the_ui_or_pages(path):
    imports = imported_modules(path)
    assert not {name for name in imports if name.split(".")[0] == "pages"}, "app → pages is backwards"
    if path not in ALLOWED_STREAMLIT:
        assert not {name for name in imports if name.split(".")[0] == "streamlit"}, "Streamlit belongs in app/ui/"


@pytest.mark.parametrize("path", sorted((ROOT / "app" / "ui").glob("*.py")), ids=lambda p: p.name)
def test_ui_helpers_never_import_pages(path):
    assert not {name for name in imported_modules(path) if name.split(".")[0] == "pages"}


def lazy_app_imports() -> list[str]:
    """``from app… import`` statements inside functions, as "file:line"."""
    found = []
    for path in [*app_files(), *(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(function)
                          if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app"]
    return sorted(set(found))


def test_imports_sit_at_the_top_of_modules():
    """An import inside a function hides the dependency graph; the few left each save start-up time."""
    lazy = lazy_app_imports()
    assert len(lazy) <= LAZY_IMPORTS_ALLOWED, lazy
    for place in lazy:
        file, line = place.rsplit(":", 1)
        lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
        assert "start-up" in " ".join(lines[int(line) - 2:int(line) + 1]), f"{place}: say what the lazy import saves"


def test_no_file_prefix_repeats_where_a_folder_would_say_it():
    for folder in {p.parent for p in app_files()}:
        stems = [p.stem for p in folder.glob("*.py")]
        prefixes = [stem.split("_")[0] for stem in stems if "_" in stem]
        repeated = {prefix for prefix in prefixes if prefixes.count(prefix) > 2}
        assert not repeated, f"{folder}: make a folder for {sorted(repeated)}"
