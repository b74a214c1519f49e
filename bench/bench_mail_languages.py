"""CPU per e-mail message in each language, and what French elision ("d'Amélie") costs.

Every golden message kind (owner's and supervisor's) is built in English, French and Spanish; French also
with the elision check turned off, as the peer. Rounds run in turn; medians are printed with the best beside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine.mail.render as render_module
from engine.mail.checks import SAMPLE_NOW, sample_message
from engine.mail.render import Renderer
from tests.mail.test_messages import GOLDEN_CASES, IDENTITY, TEMPLATES
from tests.mail.test_messages_languages import language_row


def _seconds(renderer: Renderer, rows: list[dict[str, Any]], repeat: int, elision: bool) -> float:
    kept = render_module.elide_values
    if not elision:
        render_module.elide_values = lambda text, values: text
    try:
        started = time.process_time()
        for _ in range(repeat):
            for row in rows:
                sample_message(renderer, row, now=SAMPLE_NOW)
        return time.process_time() - started
    finally:
        render_module.elide_values = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds on each side, in turn")
    parser.add_argument("--repeat", type=int, default=20, help="times every golden message is built per round")
    args = parser.parse_args()
    renderer = Renderer([TEMPLATES], IDENTITY)
    sides = {"en": ("en", True), "es": ("es", True), "fr": ("fr", True), "fr without elision": ("fr", False)}
    rows = {name: [language_row(n, v, lang) for n, v in GOLDEN_CASES] for name, (lang, _) in sides.items()}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for name, (_, elision) in sides.items():  # warm: templates compiled, caches filled
        _seconds(renderer, rows[name], 1, elision)
    for _ in range(args.rounds):
        for name, (_, elision) in sides.items():
            times[name].append(_seconds(renderer, rows[name], args.repeat, elision))
    count = args.repeat * len(GOLDEN_CASES)
    print(f"load average {os.getloadavg()[0]:.2f}; {count} messages per round, {args.rounds} rounds")
    for name, found in times.items():
        print(f"{name}: {statistics.median(found) / count * 1e3:.3f} ms/message (best {min(found) / count * 1e3:.3f})")
    ratio = statistics.median(times["fr"]) / statistics.median(times["fr without elision"])
    print(f"French elision costs {ratio:.3f}x")


if __name__ == "__main__":
    main()
