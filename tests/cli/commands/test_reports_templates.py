"""``planwatch report --format html`` uses the user's own report template, in the same sandbox as the web page."""

from __future__ import annotations

from pathlib import Path

import pytest

from ...read.test_report_templates import PAYLOADS

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli, workdir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    (workdir / "ours" / "report").mkdir(parents=True)
    monkeypatch.setenv("PLANWATCH_USER_TEMPLATES", str(workdir / "ours"))
    return cli


def test_the_html_report_uses_the_users_own_template(plan, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "ours" / "report" / "report.html.j2").write_text("<h1>Our own: {{ report.plan.symbol }}</h1>\n")
    printed = plan("report", "--as-of", "2000-12-31", "--format", "html")
    assert printed.code == 0, printed.err
    assert printed.out == "<h1>Our own: GB.276/TC/2</h1>"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_report_template_reaching_for_pythons_insides_exits_2_naming_file_and_line(  # type: ignore[no-untyped-def]
    plan, workdir: Path, payload: str
) -> None:
    (workdir / "ours" / "report" / "report.html.j2").write_text(f"<h1>Ours</h1>\n{payload}\n")
    refused = plan("report", "--as-of", "2000-12-31", "--format", "html", "--out", "report.html")
    assert refused.code == 2 and refused.out == "" and not (workdir / "report.html").exists()
    assert "uid=" not in refused.err and len(refused.err.strip().splitlines()) == 1
    assert refused.err.startswith(
        "ours/report/report.html.j2:2: the report template uses something templates may not use: "
    )
