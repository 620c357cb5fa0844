"""The house keeps its shape: one package per layer, every import pointing down.

Read statically from the source (every import, also those inside functions):
no import cycle inside mdboard/, click only under mdboard/cli/, each layer imports
only itself and the layers below it (core <- git <- domain <- site <- serve <- cli),
and package __init__ files hold only their docstring. `mdboard --help` must not
import any command module or heavy library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "mdboard"
LAYERS = ["core", "git", "domain", "site", "serve", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `path` imports anywhere in its body (a package's `from P import m` counts as P.m)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                out.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imported(path, known) if m in known and m != name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def layer(name: str) -> int | None:
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_cycle_inside_mdboard():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_import_points_down():
    upward = [f"{a} -> {b}" for a, targets in graph().items() for b in sorted(targets)
              if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)]
    assert upward == []


def test_every_module_lives_in_a_layer():
    loose = [name for name in modules() if name != "mdboard" and layer(name) is None]
    assert loose == []


def test_only_the_cli_imports_click():
    known = modules()
    offenders = [name for name, path in known.items() if not name.startswith("mdboard.cli")
                 and any(m == "click" or m.startswith("click.") for m in imported(path, known))]
    assert offenders == []


GC_POLICY = {"disable", "enable", "freeze", "unfreeze", "set_threshold"}


def gc_policy_calls(path: Path) -> list[str]:
    """`gc.disable()`, `gc.freeze()`... made in a module (the collector's process-wide switches)."""
    tree = ast.parse(path.read_text("utf-8"))
    return [f"{path.name}:{node.lineno} gc.{node.func.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in GC_POLICY
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "gc"]


def test_garbage_collection_policy_is_made_only_by_the_cli():
    """The collector's switches are process-wide: the program's entry points decide them
    (`cli.main.run`, `cli.common.collect_garbage`), never a library call that a server makes
    from several threads at once."""
    offenders = [call for name, path in modules().items() if not name.startswith("mdboard.cli")
                 for call in gc_policy_calls(path)]
    assert offenders == []
    assert gc_policy_calls(PACKAGE / "cli" / "main.py"), "the finder must see the CLI's own gc.disable()"


def test_package_init_files_hold_only_their_docstring():
    for path in PACKAGE.glob("*/__init__.py"):
        body = ast.parse(path.read_text("utf-8")).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), path


def test_help_imports_no_command_module_and_no_heavy_library():
    code = ("import sys\nfrom mdboard.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.rpartition("MODULES ")[2].split())
    ours = {m for m in loaded if m == "mdboard" or m.startswith("mdboard.")}
    assert ours == {"mdboard", "mdboard.cli", "mdboard.cli.main", "mdboard.cli.common", "mdboard.cli.lang",
                    "mdboard.core", "mdboard.core.errors", "mdboard.core.i18n", "mdboard.core.records",
                    "mdboard.core.text"}
    assert not loaded & {"yaml", "jinja2", "markdown_it", "watchdog", "git", "frontmatter", "rich", "babel",
                         "icalendar"}
