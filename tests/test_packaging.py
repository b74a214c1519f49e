"""The package as people get it: built (sdist, then the wheel from it), installed in a fresh virtual
environment and run from a folder that holds nothing of planwatch; ``planwatch init`` and the shipped
rules, templates and example plan as the wheel carries them (a checkout's: tests/shipped/).

The fresh environment is made with ``python -m venv`` (no system site-packages); the wheel is
installed into it without its dependencies, which it finds in the test's own environment through
a ``.pth`` file: the only planwatch it can import is the wheel's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli.main import run
from engine.shipped import FOLDERS

ROOT = Path(__file__).resolve().parent.parent
PLAN = "gb276-tc2-implementation-plan.txt"
PROJECT_FILES = {
    "README.md",
    "templates/README.md",
    *(f"rules/{p.name}" for p in (ROOT / "rules").iterdir() if p.is_file()),
    *(f"plans/{p.name}" for p in (ROOT / "plans").iterdir() if p.is_file()),
}


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run the fresh environment's ``planwatch ARGS`` in ``cwd``."""
        return self._call([self.venv / "bin" / "planwatch", *args], cwd)

    def python(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run the fresh environment's ``python ARGS`` in ``cwd``."""
        return self._call([self.venv / "bin" / "python", *args], cwd)

    def _call(self, command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(c) for c in command], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=300, check=False
        )


def _step(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The sdist and the wheel built from it, the wheel installed in a fresh virtual environment."""
    base = tmp_path_factory.mktemp("package")
    venv, dist = base / "venv", base / "dist"
    _step(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_step(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "planwatch-test-dependencies.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    _step(python, "-m", "pip", "install", "--quiet", "build")
    _step(python, "-m", "build", "--outdir", dist, ROOT)
    wheel = next(dist.glob("planwatch-*.whl"))
    _step(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", wheel)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANWATCH_")}
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    env.update(COLUMNS="160", XDG_CACHE_HOME=str(base / "cache"))
    return Installed(venv, wheel, env)


@pytest.mark.slow
def test_the_wheel_carries_every_shipped_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder in FOLDERS:
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files
        missing = [str(p) for p in files if f"engine/shipped/{p.relative_to(ROOT).as_posix()}" not in names]
        assert missing == []
    assert {"engine/shipped/__init__.py", "engine/shipped/project.py", "engine/cli/commands/project.py"} <= names


@pytest.mark.slow
def test_the_installed_package_finds_its_files_in_itself(installed: Installed, tmp_path: Path) -> None:
    code = (
        "import engine, engine.shipped as s; "
        "print(engine.__file__); print(s.rules_folder()); print(s.templates_folder())"
    )
    out = installed.python("-c", code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        assert Path(line).is_relative_to(installed.venv), line


@pytest.mark.slow
def test_demo_runs_from_an_empty_folder(installed: Installed, tmp_path: Path) -> None:
    here, out = tmp_path / "here", tmp_path / "demo"
    here.mkdir()
    result = installed.run("demo", "--out", str(out), cwd=here)
    assert result.returncode == 0, result.stderr
    assert "No example plan in plans/ here: playing the one planwatch ships" in result.stdout
    assert "No rules/ here: using the default rules planwatch ships" in result.stdout
    assert str(installed.venv) in result.stdout  # the shipped folders are the wheel's
    assert "Messages sent: " in result.stdout and "Escalation log: " in result.stdout
    assert (out / "planwatch-demo.db").is_file() and any((out / "maildir" / "new").iterdir())
    assert list(here.iterdir()) == []


@pytest.mark.slow
def test_init_writes_a_project_that_runs(installed: Installed, tmp_path: Path) -> None:
    result = installed.run("init", "project", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Next: cd project && planwatch demo" in result.stdout
    project = tmp_path / "project"
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()} == PROJECT_FILES
    checked = installed.run("rules", "check", cwd=project)
    assert checked.returncode == 0, checked.stderr
    assert "rules/default.yaml" in checked.stdout
    imported = installed.run("import", "plans/owners.yaml", f"plans/{PLAN}", cwd=project)
    assert imported.returncode == 0, imported.stderr
    assert (project / "planwatch.db").is_file()


@pytest.mark.slow
def test_installed_command_names_the_missing_rules_folder(installed: Installed, tmp_path: Path) -> None:
    result = installed.run("rules", "check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"rules: no such rules folder or file (looked for {tmp_path.resolve() / 'rules'}); expected a folder of"
        " *.yaml rule files or one rule file (`planwatch init DIR` writes a project folder with the default rules)"
    ]


# ---------------------------------------------------------------- in this checkout


def test_a_command_names_the_rules_folder_it_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANWATCH_RULES_DIR", raising=False)
    assert run(["rules", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rules: no such rules folder or file (looked for {tmp_path.resolve() / 'rules'});")
    assert "planwatch init DIR" in err and err.count("\n") == 1
