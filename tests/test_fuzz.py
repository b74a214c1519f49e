"""Hostile input: whatever the bytes, the readers end in a result or in planwatch's own clear error."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import yamlfile
from engine.errors import PlanwatchError
from engine.importers import gbtext, planyaml
from engine.importing import import_paths
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade

from .conftest import ROOT, SEED, snapshot

SEED_LINES = SEED.read_text(encoding="utf-8").splitlines()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Mutations of the real seed: lines dropped, swapped, cut or spliced with junk reach deep into the grammar.
mutated_seed = st.builds(
    lambda cut, drop, junk, at: "\n".join([*SEED_LINES[:cut], junk, *SEED_LINES[cut + drop : at]]),
    st.integers(0, len(SEED_LINES)),
    st.integers(0, 5),
    st.text(max_size=40),
    st.integers(0, len(SEED_LINES)),
)


def _nested(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    keys = st.sampled_from(["plan", "actions", "sections", "id", "owners", "policies", "due", "timezone", "x"])
    return st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)


yaml_like = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12), _nested, max_leaves=20)


@FAST
@given(mutated_seed)
def test_text_format_never_crashes(text: str) -> None:
    try:
        doc = gbtext.parse(text, "fuzz.txt")
    except PlanwatchError as exc:
        assert str(exc).startswith("fuzz.txt")
    else:
        assert len({a.ref for a in doc.actions}) == len(doc.actions)


@FAST
@given(st.text(max_size=300))
def test_any_text_into_the_yaml_plan_reader(text: str) -> None:
    try:
        planyaml.parse(text, "fuzz.yaml")
    except PlanwatchError as exc:
        assert str(exc).startswith("fuzz.yaml") or "\n" in str(exc)


@FAST
@given(yaml_like)
def test_any_structure_into_the_yaml_plan_reader(data: object) -> None:
    import io

    from ruamel.yaml import YAML

    out = io.StringIO()
    YAML().dump({"plan": data, "sections": data, "actions": data}, out)
    with contextlib.suppress(PlanwatchError):  # an error of ours is fine; anything else fails the test
        planyaml.parse(out.getvalue(), "fuzz.yaml")


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_into_the_rule_loader(tmp_path_factory, blob: bytes) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("rules")
    (folder / "r.yaml").write_bytes(blob)
    with contextlib.suppress(PlanwatchError):
        load_rules(folder)


@FAST
@given(st.text(max_size=200))
def test_any_text_into_the_yaml_loader(text: str) -> None:
    try:
        yamlfile.loads(text, "f.yaml")
    except PlanwatchError as exc:
        assert str(exc).startswith("f.yaml")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the seed plan imported, made once and copied for every example (most of an example's time
    went to migrating a fresh file and importing the seed into it)."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    import_paths(engine, [SEED], Settings(database_url=url, rules_dir=ROOT / "rules"), datetime(2000, 1, 1, tzinfo=UTC))
    engine.dispose()
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_seed)
def test_a_bad_import_never_half_writes_the_database(tmp_path_factory, seeded: Path, text: str) -> None:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("db")
    with (
        contextlib.closing(sqlite3.connect(seeded)) as source,
        contextlib.closing(sqlite3.connect(folder / "p.db")) as copy,
    ):
        source.backup(copy)
    url = f"sqlite:///{folder / 'p.db'}"
    engine = make_engine(url)
    settings_ = Settings(database_url=url, rules_dir=ROOT / "rules")
    before = snapshot(url)
    plan = folder / "plan.txt"
    plan.write_text(text.replace("GB.276/TC/2", "GB.276/TC/2", 1), encoding="utf-8")
    try:
        import_paths(engine, [plan], settings_, datetime(2000, 1, 2, tzinfo=UTC))
    except PlanwatchError:
        assert snapshot(url) == before
    engine.dispose()
