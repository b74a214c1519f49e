"""Build step: the wheel carries the top-level rules/, templates/ and plans/ as engine/shipped/ data.

Everything else about the package is in pyproject.toml. The project keeps one copy of these folders,
at the top of the source tree; an editable install reads them there (see engine/shipped/__init__.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("rules", "templates", "plans")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.py[co]", ".*")


class BuildWithShippedFiles(build_py):
    """``build_py`` that also copies the shipped folders into ``engine/shipped/`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            target = Path(self.build_lib, "engine", "shipped", name)
            shutil.rmtree(target, ignore_errors=True)  # a file deleted from the source leaves the wheel too
            shutil.copytree(ROOT / name, target, ignore=SKIPPED)
        self._compile_catalogs()

    def _compile_catalogs(self) -> None:
        """Compile each language's ``.po`` into the ``.mo`` the installed package reads."""
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted((ROOT / "engine" / "locale").glob("*/LC_MESSAGES/*.po")):
            target = Path(self.build_lib, po.relative_to(ROOT)).with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            with target.open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithShippedFiles})
