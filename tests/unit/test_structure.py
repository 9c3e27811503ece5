"""The shape of the code that reviewers rely on: vae_core has no import cycle (imports inside
functions included) and no file too long to read; the browser code names what it uses; facts
about a data set come from its bundle, not from the app's code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "vae_core"
MAX_LINES = 480


def _imports(file: Path) -> set[str]:
    """The vae_core modules a file imports, anywhere in it (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .x import y / from . import x
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(n.split(".")[0] for n in names)
            elif node.module and node.module.startswith("vae_core."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("vae_core."))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {f.stem for f in CORE.glob("*.py")}
    return {f.stem: _imports(f) & modules - {f.stem} for f in CORE.glob("*.py")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_vae_core_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_no_vae_core_file_is_too_long():
    long = {f.name: n for f in CORE.glob("*.py") if (n := len(f.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_browser_modules_import_what_they_use():
    js = [f for f in (REPO / "app").rglob("*.js") if "vendor" not in f.parts]
    assert js, "no browser code found"
    declared = [f.name for f in js if re.search(r"/\*\s*global\b", f.read_text())]
    assert not declared, f"these name globals instead of importing: {declared}"


def test_the_app_states_no_data_set_floor():
    hits = [str(f.relative_to(REPO)) for f in (REPO / "app").rglob("*.py") if "189.9" in f.read_text()]
    assert not hits, f"the floor belongs to the bundle's data set, not the app: {hits}"
