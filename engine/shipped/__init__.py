"""Where the files planwatch ships live: the default rules, the templates and the example plan.

The project keeps one copy of each, the top-level folders ``rules/``, ``templates/`` and ``plans/``
of the source tree. A wheel carries them as data of this package (``engine/shipped/rules`` and so
on: the build step in ``setup.py`` copies them in); a source checkout or an editable install has no
such copy and reads the top-level folders themselves. Imports nothing from engine, like ``settings``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_TREE = HERE.parent.parent  # the checkout holding engine/ (in a wheel: site-packages)
FOLDERS = ("rules", "templates", "plans")


def shipped_folder(name: str) -> Path:
    """Return the shipped folder ``name`` (rules, templates or plans): the wheel's copy, else the checkout's."""
    if name not in FOLDERS:
        raise ValueError(f"no shipped folder {name!r}; there are {', '.join(FOLDERS)}")
    packaged = HERE / name
    if packaged.is_dir() or not (SOURCE_TREE / "pyproject.toml").is_file():
        return packaged
    return SOURCE_TREE / name


def rules_folder() -> Path:
    """Return the folder of the default rule files (``default.yaml``, ``owners.yaml``, ...)."""
    return shipped_folder("rules")


def templates_folder() -> Path:
    """Return the folder of the shipped templates (``email/``, ``web/``, ``report/``)."""
    return shipped_folder("templates")


def plans_folder() -> Path:
    """Return the folder of the example plan, its owners and its progress file."""
    return shipped_folder("plans")
