"""A French or Spanish plan keeps its language after import: a decision (``planwatch set``) reads the other
actions' time frames again in that language, and the export writes ``language:`` back."""

from __future__ import annotations

import json
from pathlib import Path

from ..test_importing_languages import _exported, _readings, _translated


def test_setting_one_action_keeps_the_french_readings_of_the_others(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = _exported(cli)
    assert _translated(path, "fr", "fr") >= 60
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("timeframe: "))
    lines[first] = lines[first][: lines[first].index("timeframe: ")] + "timeframe: 05/08/2000\n"  # 5 August
    path.write_text("".join(lines), encoding="utf-8")
    url = f"sqlite:///{workdir / 'fr.db'}"
    assert cli("import", str(path.rename("plan_fr.yaml")), db=url).code == 0
    french = _readings(lambda *a: cli(*a, db=url))
    assert "2000-08-05" in {str(v[2]) for v in french.values() if len(v) > 2}  # read the French way, day first
    assert not _doubted(cli, url)  # French dates are day first without doubt
    done = cli("set", "III.d.2", "--due", "2000-12-31", "--note", "agreed", db=url)
    assert done.code == 0, done.err
    after = _readings(lambda *a: cli(*a, db=url))
    assert {k: v for k, v in after.items() if k != "III.d.2"} == {k: v for k, v in french.items() if k != "III.d.2"}
    assert after["III.d.2"][2] == "2000-12-31"
    assert not _doubted(cli, url)  # read again in French: still without doubt


def test_the_export_of_a_french_plan_says_its_language(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = _exported(cli)
    _translated(path, "fr", "fr")
    url = f"sqlite:///{workdir / 'fr.db'}"
    assert cli("import", str(path.rename("plan_fr.yaml")), db=url).code == 0
    assert cli("export", "again.yaml", db=url).code == 0
    assert "\n  language: fr\n" in Path("again.yaml").read_text(encoding="utf-8")


def _doubted(cli, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the actions whose reading needs review."""
    rows = map(json.loads, cli("actions", "--json", db=url).out.splitlines())
    return [r["id"] for r in rows if r["needs_review"] and r["timeframe"] == "05/08/2000"]
