"""Benchmark: does the sign-in form answer a known address faster or slower than an unknown one?

Run from the repository root:  .venv/bin/python bench/bench_signin.py [--requests 1000]

The example plan's owners in a SQLite file; ``planwatch serve`` in its own process on loopback
(links written to a Maildir, no hourly cap, so every known request makes and sends a link: the
worst case). One HTTP/1.1 connection gets the form once (its CSRF cookie and token), then posts
``--requests`` sign-in requests, half for a known owner's address and half for an unknown one,
in a shuffled order, after a warm-up of 20 each; at the end every link asked for the known
address must have been sent. Timings are per request, wall clock, from sending the request to
reading the whole answer; the medians and the 90th percentiles are compared.

Threshold: the medians differ by less than 0.3 ms or by less than 10 % (before the link was
made off the request path: 4.3 ms for a known address, 2.5 ms for an unknown one).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import _world  # noqa: E402  (bench/ must be importable first)

PLANWATCH = ROOT / ".venv" / "bin" / "planwatch"
KNOWN, UNKNOWN = "rafael.quispe@example.org", "nobody.here@example.org"
TARGET_MS, TARGET_SHARE = 0.3, 0.10


def free_port() -> int:
    """Return a TCP port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start ``planwatch serve`` over a fresh database of the example owners; return it, its port and its Maildir."""
    env = dict(
        os.environ,
        PLANWATCH_DATABASE_URL=f"sqlite:///{folder / 'signin.db'}",
        PLANWATCH_SECRET_KEY="bench-secret-bench-secret",
        PLANWATCH_MAILDIR=str(folder / "mail"),
        PLANWATCH_SMTP_URL="",
        PLANWATCH_SIGNIN_MAILS_PER_HOUR="1000000",
        PLANWATCH_RULES_DIR=str(ROOT / "rules"),
        PLANWATCH_TEMPLATES_DIR=str(ROOT / "templates"),
    )
    subprocess.run(
        [str(PLANWATCH), "import", str(ROOT / "plans" / "owners.yaml")], env=env, check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen([str(PLANWATCH), "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port, folder / "mail"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("planwatch serve did not start within 30 s")


def ask(conn: http.client.HTTPConnection, cookie: str, token: str, who: str) -> tuple[float, int, bytes]:
    """Post one sign-in request; return (milliseconds, status, body)."""
    body = urlencode({"csrf": token, "who": who})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    start = time.perf_counter()
    conn.request("POST", "/signin", body=body, headers=headers)
    answer = conn.getresponse()
    content = answer.read()
    return (time.perf_counter() - start) * 1000, answer.status, content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="Sign-in requests timed (half known, half not).")
    args = parser.parse_args()
    _world.header("planwatch sign-in form benchmark")
    with tempfile.TemporaryDirectory() as scratch:
        server, port, maildir = serve(Path(scratch))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/signin")
            form = conn.getresponse()
            cookie = (form.getheader("set-cookie") or "").split(";", 1)[0]
            match = re.search(rb'name="csrf" value="([^"]+)"', form.read())
            assert match and cookie, "the sign-in form gave no CSRF token"
            token = match.group(1).decode()
            times: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
            bodies: dict[str, set[bytes]] = {KNOWN: set(), UNKNOWN: set()}
            order = [KNOWN, UNKNOWN] * (args.requests // 2)
            random.Random(7).shuffle(order)
            for n, who in enumerate([KNOWN, UNKNOWN] * 20 + order):
                ms, status, content = ask(conn, cookie, token, who)
                assert status == 200, status
                bodies[who].add(content)
                if n >= 40:
                    times[who].append(ms)
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)  # the links asked for last go out before the server ends
        sent = len(list((maildir / "new").iterdir())) if (maildir / "new").exists() else 0
    same = bodies[KNOWN] == bodies[UNKNOWN] and len(bodies[KNOWN]) == 1 and sent == 20 + args.requests // 2
    print(f"{len(times[KNOWN]):,} requests each way, in a shuffled order")
    print(f"{'address':<34} {'median ms':>10} {'p90 ms':>8} {'best ms':>8}")
    medians = {}
    for who, label in ((KNOWN, "known (an owner's, a link sent)"), (UNKNOWN, "unknown (nothing sent)")):
        medians[who] = statistics.median(times[who])
        p90 = statistics.quantiles(times[who], n=10)[-1]
        print(f"{label:<34} {medians[who]:10.2f} {p90:8.2f} {min(times[who]):8.2f}")
    gap = abs(medians[KNOWN] - medians[UNKNOWN])
    share = gap / max(medians[KNOWN], medians[UNKNOWN])
    ok = gap < TARGET_MS or share < TARGET_SHARE
    print(f"difference of medians: {gap:.2f} ms ({share:.0%}); answers identical: {same}; links sent: {sent}")
    print(f"goal: under {TARGET_MS} ms or {TARGET_SHARE:.0%}: {'ok' if ok and same else 'MISSED'}")
    _world.footer()
    return 0 if ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
