"""Spreadsheet plans through `planwatch import`: the same plan as the text, stable ids, an export that reads back."""

from __future__ import annotations

import json
from pathlib import Path

from engine.importers import gbtext

from ..conftest import SEED
from .documents import HEADER, TITLE_ROWS, plan_rows, write_csv, write_ods, write_xlsx

PLAN = "plans/gb276-tc2-implementation-plan.txt"


def actions(cli) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    result = cli("actions", "--json")
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    return [(r["id"], r["title"], r["timeframe"], json.dumps(r, sort_keys=True, default=str)) for r in records]


def test_the_spreadsheet_of_the_text_plan_changes_nothing_it_imported(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    doc = gbtext.parse(SEED.read_text(encoding="utf-8"), PLAN)
    rows = [*TITLE_ROWS, HEADER, *plan_rows(doc)]
    write_xlsx(workdir / "plan.xlsx", {"Plan": rows})
    write_ods(workdir / "plan.ods", {"Plan": rows})
    write_csv(workdir / "plan.csv", rows)
    assert cli("import", PLAN).code == 0
    from_text = actions(cli)
    for name in ("plan.xlsx", "plan.ods", "plan.csv", "plan.xlsx"):
        result = cli("import", name)
        assert result.code == 0, result.err
        assert "Nothing changed" in result.out, (name, result.out)
        assert [a[:3] for a in actions(cli)] == [a[:3] for a in from_text]


def test_a_spreadsheet_alone_imports_and_exports(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["Lima, 2 March 2026."],
        ["Parte", "Medida", "Plazo", "Responsable"],
        ["Parte I - Finanzas", "Publicar las cuentas", "by end-2026", None],
        [None, "Revisar el presupuesto", "within six months", None],
    ]
    write_xlsx(workdir / "seguimiento.xlsx", {"Hoja1": rows})
    result = cli("import", "seguimiento.xlsx")
    assert result.code == 0, result.err
    assert "2 actions" in result.out
    assert [a[:3] for a in actions(cli)] == [
        ("I.1", "Publicar las cuentas", "by end-2026"),
        ("I.2", "Revisar el presupuesto", "within six months"),
    ]
    assert cli("export", "out.yaml").code == 0
    exported = (workdir / "out.yaml").read_text(encoding="utf-8")
    assert "id: seguimiento" in exported and "timezone: America/Lima" in exported
    assert cli("import", "out.yaml").code == 0
    assert next(a[:3] for a in actions(cli)) == ("I.1", "Publicar las cuentas", "by end-2026")
    again = cli("import", "seguimiento.xlsx")
    assert "Nothing changed" in again.out


def test_a_place_with_no_known_time_zone_warns(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [["Springfield, 1 March 2026."], ["Action", "Deadline"], ["Open the office", "by June 2026"]]
    write_csv(workdir / "plan.csv", rows)
    result = cli("import", "plan.csv")
    assert result.code == 0, result.err
    assert "'Springfield' has no time zone planwatch knows" in result.out
    assert cli("import", "--tz", "America/Chicago", "plan.csv").code == 0
