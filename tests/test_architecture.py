"""The map of engine/ as a test: ARCHITECTURE.md's tables checked against the import graph.

Also the architecture's other promises, checked on the source: only ``engine.clock`` reads the clock,
and ``planwatch --help`` imports none of the heavy libraries.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
PARTS = ROOT / "ARCHITECTURE.md"
MAX_TOP_LEVEL_MODULES = 15
CLOCK_READS = re.compile(r"datetime\.now\(|date\.today\(|utcnow\(|time\.time\(|time\.monotonic\(")
HEAVY = ("fastapi", "uvicorn", "apscheduler", "sqlalchemy", "sqlmodel", "alembic", "icalendar", "jinja2")


# ---------------------------------------------------------------- the parts file


@dataclass(frozen=True)
class Layer:
    name: str
    patterns: tuple[str, ...]
    may_import: frozenset[str]


@dataclass(frozen=True)
class Never:
    sources: frozenset[str]
    targets: frozenset[str]
    why: str


@dataclass(frozen=True)
class Parts:
    layers: tuple[Layer, ...]
    never: tuple[Never, ...]

    def layer_of(self, module: str) -> str | None:
        """The layer of the most specific pattern matching ``module`` (exact beats ``.*``, longer beats shorter)."""
        best: tuple[int, str] | None = None
        for layer in self.layers:
            for pattern in layer.patterns:
                rank = _rank(pattern, module)
                if rank is not None and (best is None or rank > best[0]):
                    best = (rank, layer.name)
        return best[1] if best else None

    def forbids(self, source: str, target: str) -> str | None:
        """Why an arrow from layer ``source`` to layer ``target`` is forbidden, or None when it is allowed."""
        never = [rule.why for rule in self.never if source in rule.sources and target in rule.targets]
        if never:
            return "never: " + "; ".join(never)
        allowed = next(layer.may_import for layer in self.layers if layer.name == source)
        if source == target or target in allowed:
            return None
        return f"{source} may import only {', '.join(sorted(allowed)) or 'nothing from engine'}"


def _rank(pattern: str, module: str) -> int | None:
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return 2 * len(base) if module == base or module.startswith(base + ".") else None
    return 2 * len(pattern) + 1 if module == pattern else None


def _table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped, header and rule dropped) of the first table under ``## heading``."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _layer_set(cell: str, all_layers: Iterable[str]) -> frozenset[str]:
    names = _names(cell)
    if cell.startswith("every layer but"):
        return frozenset(set(all_layers) - set(names))
    return frozenset(names)


def parse_parts(text: str) -> Parts:
    """Read the Layers and "never" tables of ARCHITECTURE.md; ValueError if they contradict themselves."""
    layers = tuple(
        Layer(_names(name)[0], tuple(_names(modules)), frozenset(_names(may)))
        for name, modules, may, _owns in _table(text, "Layers")
    )
    names = [layer.name for layer in layers]
    problems = [f"layer {name} is named twice" for name in set(names) if names.count(name) > 1]
    for i, layer in enumerate(layers):
        below = set(names[:i])
        problems += [f"{layer.name} may import {m}, which is not a layer above it" for m in layer.may_import - below]
    never = tuple(
        Never(_layer_set(sources, names), _layer_set(targets, names), why)
        for sources, targets, why in _table(text, "Arrows that must never exist")
    )
    may = {layer.name: layer.may_import for layer in layers}
    for rule in never:
        problems += [f"unknown layer {n} in the never table" for n in (rule.sources | rule.targets) - set(names)]
        problems += [
            f"{s} may import {t}, which the never table forbids ({rule.why})"
            for s in sorted(rule.sources & set(names))
            for t in sorted(rule.targets & may[s])
        ]
    if problems:
        raise ValueError("; ".join(problems))
    return Parts(layers, never)


# ---------------------------------------------------------------- the import graph


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_files(root: Path) -> dict[str, Path]:
    """Every module under ``root / "engine"``, by dotted name."""
    modules = {}
    for path in sorted((root / "engine").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_graph(root: Path, modules: Mapping[str, Path]) -> tuple[list[Import], list[Import]]:
    """Every import of an engine module by an engine module, and the imports of engine names that are no module."""
    arrows: list[Import] = []
    unknown: list[Import] = []
    for source, path in modules.items():
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_bytes(), filename=rel)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target, known in _targets(node, package, modules):
                    (arrows if known else unknown).append(Import(source, target, rel, node.lineno))
    return arrows, unknown


def _targets(node: ast.Import | ast.ImportFrom, package: str, modules: Mapping[str, Path]) -> list[tuple[str, bool]]:
    """The engine modules an import statement names, each with whether it exists.

    ``import a.b`` names ``a.b``; ``from a import b`` names ``a.b`` when that is a module, else ``a``.
    """
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [(name, name in modules) for name in names if _in_engine(name)]
    if node.level:
        parts = package.split(".")
        stem = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
    else:
        stem = node.module or ""
    if not _in_engine(stem):
        return []
    found = {f"{stem}.{alias.name}" for alias in node.names} & modules.keys()
    if len(found) < len(node.names):
        found.add(stem)
    return [(name, name in modules) for name in sorted(found)]


def _in_engine(name: str) -> bool:
    return name == "engine" or name.startswith("engine.")


# ---------------------------------------------------------------- the checks


def layer_violations(parts: Parts, modules: Iterable[str], arrows: Iterable[Import]) -> list[str]:
    """One line per module without a layer and per forbidden arrow, each naming a file and line."""
    modules = list(modules)
    out = [f"{m}: no layer's pattern matches it (add it to ARCHITECTURE.md)" for m in modules if not parts.layer_of(m)]
    out += [
        f"ARCHITECTURE.md: the pattern {pattern} of layer {layer.name} matches no module"
        for layer in parts.layers
        for pattern in layer.patterns
        if not any(_rank(pattern, m) is not None for m in modules)
    ]
    for arrow in arrows:
        source, target = parts.layer_of(arrow.source), parts.layer_of(arrow.target)
        if source is None or target is None or arrow.source == arrow.target:
            continue
        why = parts.forbids(source, target)
        if why:
            out.append(f"{arrow.where}: {arrow.source} ({source}) imports {arrow.target} ({target}): {why}")
    return out


def import_cycles(arrows: Iterable[Import]) -> list[str]:
    """One line per strongly connected group of modules: a cycle through it, each step with its file:line."""
    edges: dict[str, dict[str, Import]] = {}
    for arrow in arrows:
        if arrow.source != arrow.target:
            edges.setdefault(arrow.source, {}).setdefault(arrow.target, arrow)
    out = []
    for group in _strongly_connected(edges):
        cycle = _cycle_through(min(group), group, edges)
        steps = " -> ".join(f"{a.target} ({a.where})" for a in cycle)
        out.append(f"import cycle among {len(group)} modules: {cycle[0].source} -> {steps}")
    return out


def _strongly_connected(edges: Mapping[str, Mapping[str, Import]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative; only groups of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def _cycle_through(start: str, group: set[str], edges: Mapping[str, Mapping[str, Import]]) -> list[Import]:
    """The shortest cycle from ``start`` back to itself inside ``group`` (breadth first)."""
    came: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, arrow in sorted(edges.get(node, {}).items()):
                if target not in group or target in came:
                    continue
                came[target] = arrow
                if target == start:
                    path = [arrow]
                    while path[0].source != start:
                        path.insert(0, came[path[0].source])
                    return path
                following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def top_level_problems(root: Path) -> list[str]:
    """A small top level: at most MAX_TOP_LEVEL_MODULES modules beside the packages, none named ``_x``."""
    names = sorted(p.stem for p in (root / "engine").glob("*.py") if p.name != "__init__.py")
    out = [f"engine/{n}.py: a top-level module's name must not start with '_'" for n in names if n[0] == "_"]
    out = [line for line in out if not line.startswith("engine/__main__.py:")]
    if len(names) > MAX_TOP_LEVEL_MODULES:
        out.append(f"engine/ holds {len(names)} modules besides its packages, more than {MAX_TOP_LEVEL_MODULES}")
    return out


def architecture_problems(root: Path, parts_text: str) -> list[str]:
    """Everything wrong with the source under ``root`` according to the parts file."""
    parts = parse_parts(parts_text)
    modules = module_files(root)
    arrows, unknown = import_graph(root, modules)
    return [
        *layer_violations(parts, modules, arrows),
        *(f"{a.where}: {a.source} imports {a.target}, which is no module of engine" for a in unknown),
        *import_cycles(arrows),
        *top_level_problems(root),
    ]


# ---------------------------------------------------------------- the tests


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(problems)


def test_parts_file_is_consistent() -> None:
    parts = parse_parts(PARTS.read_text())
    assert len(parts.layers) > 10
    assert parts.layer_of("engine.actions.links") == "links"
    assert parts.layer_of("engine.actions.workflow") == "actions"
    assert parts.layer_of("engine.store") == "store"


def test_every_module_has_a_layer_and_every_arrow_is_allowed() -> None:
    parts = parse_parts(PARTS.read_text())
    modules = module_files(ROOT)
    arrows, unknown = import_graph(ROOT, modules)
    problems = layer_violations(parts, modules, arrows)
    problems += [f"{a.where}: {a.source} imports {a.target}, which is no module of engine" for a in unknown]
    assert problems == [], _report(problems)


def test_no_import_cycles() -> None:
    arrows, _ = import_graph(ROOT, module_files(ROOT))
    cycles = import_cycles(arrows)
    assert cycles == [], _report(cycles)


def test_engine_top_level_stays_small() -> None:
    problems = top_level_problems(ROOT)
    assert problems == [], _report(problems)


@pytest.fixture(scope="module")
def engine_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("copy")
    shutil.copytree(ENGINE, root / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _plant(root: Path, relpath: str, code: str) -> int:
    """Append ``code`` to ``root/relpath``; return the line number of its first line."""
    path = root / relpath
    before = path.read_text()
    path.write_text(before + ("" if before.endswith("\n") or not before else "\n") + code)
    return len(before.splitlines()) + 1


def test_checker_catches_a_planted_forbidden_import(engine_copy: Path) -> None:
    text = PARTS.read_text()
    baseline = set(architecture_problems(engine_copy, text))
    line = _plant(engine_copy, "engine/store/types.py", "\n\ndef _late() -> None:\n    from engine.cli import main\n")
    new = set(architecture_problems(engine_copy, text)) - baseline
    where = f"engine/store/types.py:{line + 3}: engine.store.types (store) imports engine.cli.main (cli)"
    assert [p for p in new if p.startswith(where) and "the CLI is the outermost face" in p], _report(sorted(new))


def test_checker_catches_type_checking_and_relative_imports(engine_copy: Path) -> None:
    text = PARTS.read_text()
    baseline = set(architecture_problems(engine_copy, text))
    code = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..mail import render\n"
    line = _plant(engine_copy, "engine/timeframe/tokens.py", code)
    new = set(architecture_problems(engine_copy, text)) - baseline
    where = f"engine/timeframe/tokens.py:{line + 3}: engine.timeframe.tokens (timeframe) imports engine.mail.render"
    assert [p for p in new if p.startswith(where)], _report(sorted(new))


def test_checker_catches_an_unassigned_module_and_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "engine" / "store").mkdir(parents=True)
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "store" / "__init__.py").write_text("from engine.store import a\n")
    (tmp_path / "engine" / "store" / "a.py").write_text('"""A."""\n\nimport engine.store.b\n')
    (tmp_path / "engine" / "store" / "b.py").write_text("from . import a\n")
    (tmp_path / "engine" / "stray.py").write_text("from engine.errors import Missing\n")
    problems = architecture_problems(tmp_path, PARTS.read_text())
    assert "engine.stray: no layer's pattern matches it (add it to ARCHITECTURE.md)" in problems
    assert "engine/stray.py:1: engine.stray imports engine.errors, which is no module of engine" in problems
    cycles = [p for p in problems if p.startswith("import cycle")]
    assert cycles == [
        "import cycle among 2 modules: engine.store.a -> engine.store.b (engine/store/a.py:3)"
        " -> engine.store.a (engine/store/b.py:1)"
    ]


def test_checker_refuses_a_parts_file_that_contradicts_itself() -> None:
    text = PARTS.read_text().replace("| `dispatch` | `planning` |", "| `dispatch` | `planning`, `mail` |", 1)
    with pytest.raises(ValueError, match="dispatch may import mail, which the never table forbids"):
        parse_parts(text)
    upward = PARTS.read_text().replace("| `errors`, `shipped` | frozen", "| `errors`, `shipped`, `cli` | frozen", 1)
    with pytest.raises(ValueError, match="is not a layer above it"):
        parse_parts(upward)


def test_top_level_check_counts_modules_and_refuses_private_names(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    for name in ["__init__", "__main__", "_hidden", *(f"m{i}" for i in range(MAX_TOP_LEVEL_MODULES))]:
        (tmp_path / "engine" / f"{name}.py").write_text("")
    assert top_level_problems(tmp_path) == [
        "engine/_hidden.py: a top-level module's name must not start with '_'",
        f"engine/ holds {MAX_TOP_LEVEL_MODULES + 2} modules besides its packages, more than {MAX_TOP_LEVEL_MODULES}",
    ]


def test_only_clock_reads_the_clock() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in ENGINE.rglob("*.py")
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if CLOCK_READS.search(line)
    ]
    assert offenders == []


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from engine.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "Usage" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


# ---------------------------------------------------------------- tests found by name

WHOLE_PROJECT_TESTS = {"test_architecture", "test_bad_input", "test_docs", "test_fuzz", "test_packaging"}


def _defines_something(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for node in tree.body)


def _test_home(module: Path, root: Path) -> tuple[Path, str]:
    """The tests folder and the name its test files start with, for one engine module."""
    rel = module.relative_to(root / "engine")
    if module.name == "__init__.py":
        return root / "tests" / rel.parent, f"test_{rel.parent.name}"
    return root / "tests" / rel.parent, f"test_{module.stem}"


def _named_for(test: Path, prefix: str) -> bool:
    return test.stem == prefix or test.stem.startswith(prefix + "_")


def layout_problems(root: Path) -> list[str]:
    """Modules whose tests cannot be found by their name, and test files named after no module."""
    engine = root / "engine"
    tests = [p for p in (root / "tests").rglob("test_*.py") if "node_modules" not in p.parts]
    problems = []
    homes = []
    for module in sorted(engine.rglob("*.py")):
        if "migrations" in module.relative_to(engine).parts or module.name == "__main__.py":
            continue
        folder, prefix = _test_home(module, root)
        homes.append((folder, prefix))
        if _defines_something(module) and not any(t.parent == folder and _named_for(t, prefix) for t in tests):
            where = (folder / f"{prefix}.py").relative_to(root)
            problems.append(f"{module.relative_to(root)}: no tests found by its name (expected {where})")
    for test in sorted(tests):
        if test.parent == root / "tests" and test.stem in WHOLE_PROJECT_TESTS:
            continue
        if not any(test.parent == folder and _named_for(test, prefix) for folder, prefix in homes):
            problems.append(f"{test.relative_to(root)}: named after no module of engine/")
    return problems


def test_every_module_has_tests_found_by_its_name() -> None:
    problems = layout_problems(ROOT)
    assert problems == [], _report(problems)


def test_layout_check_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "engine" / "pkg").mkdir(parents=True)
    (tmp_path / "engine" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "engine" / "pkg" / "mod.py").write_text("def f() -> None: ...\n")
    (tmp_path / "engine" / "pkg" / "consts.py").write_text("X = 1\n")
    (tmp_path / "engine" / "leaf.py").write_text("class C: ...\n")
    (tmp_path / "tests" / "pkg").mkdir(parents=True)
    (tmp_path / "tests" / "test_leaf_topic.py").write_text("")
    (tmp_path / "tests" / "pkg" / "test_other.py").write_text("")
    assert layout_problems(tmp_path) == [
        "engine/pkg/mod.py: no tests found by its name (expected tests/pkg/test_mod.py)",
        "tests/pkg/test_other.py: named after no module of engine/",
    ]
    (tmp_path / "tests" / "pkg" / "test_mod.py").write_text("")
    (tmp_path / "tests" / "pkg" / "test_other.py").unlink()
    assert layout_problems(tmp_path) == []
