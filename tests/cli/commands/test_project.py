"""``planwatch init DIR``: a project folder written from the shipped files, only into a new or empty folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import run

from ...conftest import ROOT


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_writes_a_project_and_says_what_next(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "init", "new project")
    assert (code, err) == (0, "")
    made = Path("new project")
    assert (made / "rules" / "default.yaml").read_bytes() == (ROOT / "rules" / "default.yaml").read_bytes()
    assert (made / "plans" / "gb276-tc2-implementation-plan.txt").is_file()
    assert (made / "templates" / "README.md").is_file() and (made / "README.md").is_file()
    written = sum(1 for p in made.rglob("*") if p.is_file())
    lines = out.splitlines()
    assert lines[0] == f"Wrote a planwatch project in new project ({written} files):"
    assert [line.split()[0] for line in lines[1:5]] == ["rules/", "plans/", "templates/", "README.md"]
    assert lines[-1] == "Next: cd 'new project' && planwatch demo"


def test_init_into_an_empty_folder_is_allowed(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("empty").mkdir()
    code, _, _ = invoke(capsys, "init", "empty")
    assert code == 0 and (workdir / "empty" / "rules" / "default.yaml").is_file()


def test_the_new_project_s_rules_check(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(capsys, "init", "p")[0] == 0
    code, out, _ = invoke(capsys, "--db", f"sqlite:///{workdir / 'p.db'}", "--rules", "p/rules", "rules", "check")
    assert code == 0 and "p/rules/default.yaml: 5 policies OK" in out


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")), "the folder is not empty"),
        (lambda p: p.write_text("a file"), "a file is there"),
    ],
)
def test_init_refuses_a_folder_in_use_and_writes_nothing(  # type: ignore[no-untyped-def]
    workdir: Path, capsys: pytest.CaptureFixture[str], make, what
) -> None:
    make(Path("taken"))
    before = sorted(p.name for p in Path("taken").rglob("*")) if Path("taken").is_dir() else None
    code, out, err = invoke(capsys, "init", "taken")
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"taken: {what}; planwatch init writes a project only into a new or empty folder (nothing was written)"
    )
    assert (sorted(p.name for p in Path("taken").rglob("*")) if Path("taken").is_dir() else None) == before
