"""Logging set-up: human lines by default, one JSON object per line with ``--log-json``."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FIELDS = ("action", "node", "count", "tick_at", "elapsed_ms")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time (UTC), level, logger, message and known extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: getattr(record, k) for k in FIELDS if hasattr(record, k)}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(*, as_json: bool, level: int = logging.INFO) -> None:
    """Send planwatch's logs to standard error, as JSON lines or as plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("planwatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
