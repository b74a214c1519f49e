"""The command table imports no catalog machinery: the commands that write in a language import it themselves."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_commands_does_not_import_the_languages() -> None:
    code = "import sys, engine.cli.main; print('engine.languages' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"
