"""A throwaway PostgreSQL cluster on a free loopback port, for tests that stop and restart
the database (the shared server must never be stopped), and streaming standbys of it
(`standby()`). Runs the server binaries as the `postgres` user, as the machine's own
cluster does."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from shopbot.http.serve import free_port


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"PostgreSQL server binary {name} not found (install postgresql-15)")
    return candidates[-1]


def _as_postgres(*args: str) -> None:
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


class PgCluster:
    """A new cluster (initdb, trust authentication), or with `primary` a hot standby
    cloned from that running cluster (pg_basebackup -R: it streams from it once started;
    initdb's default pg_hba.conf lets loopback replicate, wal_level is `replica`)."""

    def __init__(self, *, primary: "PgCluster | None" = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="shopbot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if primary is None:
            _as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        else:
            source = ("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres")
            _as_postgres(_bin("pg_basebackup"), *source, "-D", str(self.data), "-R", "-X", "stream")

    def standby(self) -> "PgCluster":
        """A streaming standby of this (running) cluster on its own port, not started."""
        return PgCluster(primary=self)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        _as_postgres(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
