"""Writing a stored plan out as the YAML plan file, and choosing which plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import NotFoundError, UsageError
from engine.importers import planyaml
from engine.importing import import_paths
from engine.read.export import choose_plan, export_plan
from engine.store import make_engine, transaction, upgrade

from ..web_support import T0, web_settings, web_world


def test_the_export_reads_back_as_the_same_plan(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        text, chosen = export_plan(s, None)
    engine.dispose()
    assert chosen == "gb276-tc2"
    doc = planyaml.parse(text, "export.yaml")
    assert doc.plan.id == "gb276-tc2" and doc.plan.symbol == "GB.276/TC/2"
    assert len(doc.actions) == 69 and doc.actions[0].ref == "I.1a.1"
    assert next(a for a in doc.actions if a.ref == "III.d.1").title == '<script>alert("x")</script> & <b>bold</b>'


def test_owners_given_by_rules_are_comments_not_values(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        text, _ = export_plan(s, "gb276-tc2")
    engine.dispose()
    assert "# owner by rule: program" in text
    assert all(a.owner is None for a in planyaml.parse(text, "export.yaml").actions)


def test_choosing_without_a_plan_or_an_unknown_one_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(engine) as s:
        with pytest.raises(UsageError, match=r"^no plan in the database; import one first"):
            choose_plan(s, None)
        with pytest.raises(NotFoundError, match=r"^no plan 'x'; plans: none \(import one first\)$"):
            choose_plan(s, "x")
    engine.dispose()


def test_several_plans_need_a_choice(database_url: str, tmp_path: Path) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        text, _ = export_plan(s, None)
    second = tmp_path / "second.yaml"
    second.write_text(text.replace("id: gb276-tc2", "id: second", 1), encoding="utf-8")
    import_paths(engine, [second], web_settings(database_url), T0)
    with transaction(engine) as s:
        with pytest.raises(UsageError, match=r"^several plans \(gb276-tc2, second\); choose one with --plan$") as info:
            choose_plan(s, None)
        assert info.value.exit_code == 2
        assert choose_plan(s, "second") == "second"
        with pytest.raises(NotFoundError, match=r"^no plan 'third'; plans: gb276-tc2, second$"):
            choose_plan(s, "third")
        assert planyaml.parse(export_plan(s, "second")[0], "x.yaml").plan.id == "second"
    engine.dispose()
