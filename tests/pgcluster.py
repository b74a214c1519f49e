"""A throwaway PostgreSQL cluster for tests that stop and start the server under planwatch.

``initdb`` in a temporary folder, ``pg_ctl start`` on a free port of 127.0.0.1 with trust
authentication and the socket in that folder. PostgreSQL refuses to run as root, so as root the
cluster runs as the ``postgres`` OS user (``runuser``), in a folder it owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from .smtpserver import free_port


def server_bin() -> Path | None:
    """Return the folder of ``initdb`` and ``pg_ctl`` (PLANWATCH_TEST_PG_BIN, PATH or Debian's layout), or None."""
    given = os.environ.get("PLANWATCH_TEST_PG_BIN")
    if given:
        return Path(given)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(folders[-1]) if folders and Path(folders[-1], "initdb").exists() else None


class Cluster:
    """One PostgreSQL cluster of its own; ``start``/``stop``/``crash`` as often as a test likes, ``remove`` at
    the end. ``durable``: commits wait for their WAL as in service (``synchronous_commit`` on), so that a
    crash forgets only what planwatch chose not to wait for."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir, self.durable = bindir, durable
        self.root = Path(tempfile.mkdtemp(prefix="planwatch-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb: "cannot be run as root"
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        try:
            self._run(
                "initdb", "-D", str(self.data), "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync"
            )
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the cluster's ``postgres`` database (over TCP on 127.0.0.1)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c full_page_writes=off" + ("" if self.durable else " -c synchronous_commit=off")
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """Stop the server now (``-m fast``: open connections are cut, as in an outage)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def crash(self) -> None:
        """Crash the server (``-m immediate``: every server process ends at once, no checkpoint, no goodbye to
        the clients); the next ``start`` recovers from the WAL, as after a power cut of the server alone."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster's folder."""
        subprocess.run(
            [*self._as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """Return the server's log (for a failing test's message)."""
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}\n{self.log()}"
            )
