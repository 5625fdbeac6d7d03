"""A project-local PostgreSQL cluster started from the system's server binaries.

Used by the demo (`make demo`, data in `.local/pg`) and by the test suite (a
throwaway cluster in a temporary directory). No Docker, no system service.

    python scripts/localpg.py start  --dir .local/pg     # prints the port
    python scripts/localpg.py stop   --dir .local/pg
    python scripts/localpg.py status --dir .local/pg

`initdb` and `pg_ctl` refuse to run as root: when the current user is root they
run as the `postgres` system user on a data directory it owns. The server
listens on 127.0.0.1 on a free port (written to `<dir>/port`) and on a unix
socket inside `<dir>/run`. TCP connections authenticate with scram-sha-256
as the `postgres` superuser, whose password is generated at init into
`<dir>/password` (mode 600); the unix socket trusts the server's own OS user.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def find_bindir() -> Path:
    """Locate the PostgreSQL server binaries (PG_BINDIR wins)."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise SystemExit(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them "
        "(`apt-get install postgresql`) or set PG_BINDIR."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Cluster:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def port(self) -> int:
        return int(self.port_file.read_text().strip())

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={SUPERUSER} password={self.password}"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def is_running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        r = subprocess.run(
            _as_server_user([str(find_bindir() / "pg_ctl"), "status", "-D", str(self.data)]),
            capture_output=True,
            text=True,
        )
        return r.returncode == 0

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            self.password_file.touch(mode=0o600)
            self.password_file.write_text(secrets.token_urlsafe(18) + "\n")
        self._chown(self.password_file)
        for p in (self.data, self.run):
            p.mkdir(parents=True, exist_ok=True)
            self._chown(p)
            os.chmod(p, 0o700 if p == self.data else 0o755)
        # The server user must be able to reach the data dir through the path.
        for parent in [self.root.resolve(), *list(self.root.resolve().parents)[:-1]]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
        _run(
            _as_server_user(
                [
                    str(find_bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={self.password_file}",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )
        )

    def start(self, port: int | None = None) -> int:
        self.init()
        if self.is_running():
            return self.port
        port = port or free_port()
        self.port_file.write_text(f"{port}\n")
        opts = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.run} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=256MB -c work_mem=64MB "
            "-c maintenance_work_mem=256MB"
        )
        log = self.root / "server.log"
        if not log.exists():
            log.touch()
        self._chown(log)
        _run(
            _as_server_user(
                [str(find_bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data), "-o", opts, "-l", str(log)]
            )
        )
        self._wait_ready(port)
        return port

    def _wait_ready(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"PostgreSQL did not accept connections on 127.0.0.1:{port}")

    def stop(self) -> None:
        if self.is_running():
            _run(_as_server_user([str(find_bindir() / "pg_ctl"), "stop", "-m", "fast", "-D", str(self.data)]))

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["start", "stop", "status", "destroy"])
    ap.add_argument("--dir", default=".local/pg", help="cluster root (data, socket and port file)")
    ap.add_argument("--port", type=int, default=None, help="port to listen on (default: a free one)")
    args = ap.parse_args(argv)
    cluster = Cluster(Path(args.dir).resolve())
    if args.action == "start":
        print(cluster.start(args.port))
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "destroy":
        cluster.destroy()
    else:
        running = cluster.is_running()
        print(f"running on 127.0.0.1:{cluster.port}" if running else "stopped")
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
