"""Nothing cached across sessions carries one visitor's state to another (issue 22: a cached warm-up
once drew the first visitor's owner-cookie script, and Streamlit replayed it to every later visitor)."""

import ast
import importlib
import inspect
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.ui import OWNER_COOKIE
from app.ui import quiz as ui_quiz
from tests.conftest import ROOT


def html_bodies(at: AppTest) -> str:
    return " ".join(str(element.proto) for element in at.get("html"))


def test_each_visitor_keeps_their_own_owner_token_with_the_warm_up_on(monkeypatch):
    monkeypatch.setenv("ATELIER_WARM_UP", "1")
    ui_quiz.warm_up.clear()  # a fresh server: the first visitor runs the cached warm-up
    first = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    second = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not first.exception and not second.exception
    token_a, token_b = first.session_state[OWNER_COOKIE], second.session_state[OWNER_COOKIE]
    assert token_a != token_b
    assert token_a in html_bodies(first)  # the first visitor's page sets the first visitor's cookie
    assert token_a not in html_bodies(second) and token_b in html_bodies(second)


# What only one visitor's session may read: a cached function (shared by every session of the server)
# that reaches any of these, directly or through the ui helpers it calls, would hand one visitor's
# state, or the elements drawn from it, to the others.
SESSION_READS = ("st.session_state", "st.context", "browser_owner", "st.query_params")


def ui_functions() -> dict[str, tuple[object, ast.FunctionDef]]:
    """Every function of app/ui by qualified name ("app.ui.quiz.warm_up"), with its module and AST."""
    import app.ui

    found = {}
    for path in sorted(Path(app.ui.__file__).parent.glob("*.py")):
        module_name = "app.ui" if path.stem == "__init__" else f"app.ui.{path.stem}"
        module = importlib.import_module(module_name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                found[f"{module_name}.{node.name}"] = (module, node)
    return found


def called_ui_functions(module, node: ast.FunctionDef, functions: dict) -> set[str]:
    """The app/ui functions a function calls: by bare name (same module) or through a module alias
    (``ui.language_model``, ``ui_quiz.supply``)."""
    called = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        if isinstance(call.func, ast.Name):
            called.add(f"{module.__name__}.{call.func.id}")
        elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            target = getattr(module, call.func.value.id, None)
            if inspect.ismodule(target):
                called.add(f"{target.__name__}.{call.func.attr}")
    return called & set(functions)


def test_no_cached_function_reaches_a_visitors_session():
    functions = ui_functions()
    cached = [name for name, (_, node) in functions.items()
              if any("cache_resource" in ast.unparse(d) or "cache_data" in ast.unparse(d) for d in node.decorator_list)]
    assert len(cached) > 20  # the check sees the app's caches
    problems = []
    for name in cached:
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            module, node = functions[current]
            body = ast.unparse(node.body) if current != name else ast.unparse(node)
            problems += [f"{name} reaches {read} in {current}" for read in SESSION_READS
                         if read in body or current.endswith(f".{read}")]
            todo += called_ui_functions(module, node, functions)
    assert not problems, problems
