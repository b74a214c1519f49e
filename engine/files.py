"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

READABLE = 0o644  # a new file is readable by all, as a web server serving the feeds expects


def write_atomic(path: str | Path, text: str | bytes) -> bool:
    """Write ``text`` (UTF-8; bytes as they are) to ``path`` through a temporary file and a rename; return False
    if unchanged.

    The file keeps the mode of the one it replaces; a new file gets ``READABLE`` (the temporary file's
    private 0600 is not carried over).
    """
    target = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    if target.exists() and target.read_bytes() == data:
        return False
    mode = target.stat().st_mode & 0o7777 if target.exists() else READABLE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
