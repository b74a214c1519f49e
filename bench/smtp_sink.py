"""A counting SMTP sink for the benchmark: aiosmtpd in its own process (so it has its own core).

Usage: python bench/smtp_sink.py PORT. It prints "ready" once it listens, and when its
standard input closes it prints a JSON line {"received": N, "unique": M} and exits.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    """Counts messages and distinct Message-IDs; keeps nothing else."""

    def __init__(self) -> None:
        self.received = 0
        self.ids: set[bytes] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        data = bytes(envelope.original_content or envelope.content)
        start = data.find(b"\nMessage-ID: ")
        self.ids.add(data[start : data.find(b"\r", start + 1)])
        return "250 OK"


def main() -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps({"received": counter.received, "unique": len(counter.ids)}), flush=True)


if __name__ == "__main__":
    main()
