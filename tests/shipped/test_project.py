"""``planwatch init DIR``: a project folder with copies of the shipped rules and example plan, an empty
templates folder with a README, and a README; written only into a new or empty folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import run
from engine.errors import InputError
from engine.shipped import templates_folder
from engine.shipped.project import new_project

from ..conftest import ROOT

PROJECT_FILES = {
    "README.md",
    "templates/README.md",
    *(f"rules/{p.name}" for p in (ROOT / "rules").iterdir() if p.is_file()),
    *(f"plans/{p.name}" for p in (ROOT / "plans").iterdir() if p.is_file()),
}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_new_project_makes_the_folder_and_returns_the_files_it_wrote(tmp_path: Path) -> None:
    target = tmp_path / "a" / "new" / "project"
    written = new_project(target)
    assert written == sorted(written)
    assert {p.relative_to(target).as_posix() for p in written} == _files(target) == PROJECT_FILES
    assert (target / "templates").is_dir() and _files(target / "templates") == {"README.md"}
    assert (target / "rules" / "default.yaml").read_bytes() == (ROOT / "rules" / "default.yaml").read_bytes()


def test_new_project_writes_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    new_project(tmp_path / "empty")
    assert _files(tmp_path / "empty") == PROJECT_FILES


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_new_project_refuses_a_folder_in_use_and_writes_nothing(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "project"
    if kind == "folder":
        target.mkdir()
        (target / ".keep").write_text("", encoding="utf-8")
    else:
        target.write_text("mine\n", encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(InputError) as caught:
        new_project(target)
    assert caught.value.exit_code == 2
    assert caught.value.location is not None and caught.value.location.path == "project"
    assert "nothing was written" in caught.value.message
    assert sorted(tmp_path.rglob("*")) == before


def test_init_copies_the_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run(["init", "empty"]) == 0
    written = tmp_path / "empty"
    assert {p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file()} == PROJECT_FILES
    for name in PROJECT_FILES - {"README.md", "templates/README.md"}:
        assert (written / name).read_bytes() == (ROOT / name).read_bytes(), name
    readme = (written / "README.md").read_text(encoding="utf-8")
    for command in ("planwatch import plans/owners.yaml", "planwatch demo", "planwatch run"):
        assert command in readme
    assert str(templates_folder()) in (written / "templates" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_init_refuses_to_overwrite(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    if kind == "folder":
        Path("project").mkdir()
        Path("project/notes.txt").write_text("mine\n", encoding="utf-8")
    else:
        Path("project").write_text("mine\n", encoding="utf-8")
    before = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    assert run(["init", "project"]) == 2
    what = "the folder is not empty" if kind == "folder" else "a file is there"
    assert capsys.readouterr().err == (
        f"project: {what}; planwatch init writes a project only into a new or empty folder (nothing was written)\n"
    )
    assert sorted(p.as_posix() for p in tmp_path.rglob("*")) == before
