"""The service's rules: a reload that fails keeps the rules in force."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from engine.drive.service import RulesHolder
from engine.settings import Settings

from ..conftest import ROOT


def test_a_failed_reload_keeps_the_previous_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    holder = RulesHolder(Settings(rules_dir=rules))
    before = holder.current()
    assert [p.name for p in before.policies][:2] == ["recurring", "deadlines"]
    default = rules / "default.yaml"
    default.write_text(default.read_text().replace("before: 30d", "before: 30 dayz", 1))
    later = time.time() + 5
    os.utime(default, (later, later))
    assert holder.current() is before
    default.write_text(default.read_text().replace("before: 30 dayz", "before: 20d", 1))
    os.utime(default, (later + 5, later + 5))
    reloaded = holder.current()
    assert reloaded is not before
    assert str(reloaded.policies[0].remind[0].before) == "20d"
