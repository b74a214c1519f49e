"""Where the shipped rules, templates and example plan are: in a checkout, its own top-level folders."""

from __future__ import annotations

import pytest

from engine.shipped import FOLDERS, SOURCE_TREE, plans_folder, rules_folder, shipped_folder, templates_folder

from ..conftest import ROOT


def test_a_checkout_ships_its_top_level_folders() -> None:
    assert (rules_folder(), templates_folder(), plans_folder()) == (ROOT / "rules", ROOT / "templates", ROOT / "plans")
    with pytest.raises(ValueError, match="no shipped folder 'calendars'"):
        shipped_folder("calendars")


def test_each_folder_holds_what_planwatch_reads_from_it() -> None:
    assert SOURCE_TREE == ROOT
    assert [shipped_folder(name) for name in FOLDERS] == [rules_folder(), templates_folder(), plans_folder()]
    assert (rules_folder() / "default.yaml").is_file() and (rules_folder() / "owners.yaml").is_file()
    assert (templates_folder() / "email" / "reminder.txt.j2").is_file()
    assert (templates_folder() / "report" / "report.html.j2").is_file()
    assert (plans_folder() / "gb276-tc2-implementation-plan.txt").is_file()
    assert (plans_folder() / "owners.yaml").is_file()


def test_an_unknown_name_lists_the_folders_there_are() -> None:
    with pytest.raises(ValueError, match=r"^no shipped folder 'rule'; there are rules, templates, plans$"):
        shipped_folder("rule")
    with pytest.raises(ValueError, match=r"no shipped folder '\.\./rules'"):
        shipped_folder("../rules")
