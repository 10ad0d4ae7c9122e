"""geogrid's private PostgreSQL cluster: initdb + pg_ctl on a Unix socket.

With no ``GEOGRID_DATABASE_URL`` geogrid runs its own cluster in ``<GEOGRID_HOME>/postgres``:

- ``data/``  the cluster (``initdb``), trust authentication, no TCP listener;
- ``run/``   the Unix socket directory (mode 0700: only its owner and root connect);
- ``postgres.log`` the server log.

PostgreSQL refuses to run as root, so when geogrid runs as root the cluster is created and
started as the unprivileged ``postgres`` user (which must be able to reach the folder).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from geogrid.errors import GeoGridError, PostgresNotInstalledError

__all__ = ["ClusterStatus", "EmbeddedCluster", "find_pg_bin"]

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
PACKAGES_HINT = (
    "install them with: apt-get install postgresql-15 postgresql-15-postgis-3 "
    "postgresql-15-pgrouting"
)


def find_pg_bin(hint: Path | None = None) -> Path:
    """Return the folder holding PostgreSQL's server programs (``initdb``, ``pg_ctl``).

    Looks at ``hint``, then Debian's ``/usr/lib/postgresql/<major>/bin`` (newest first),
    then ``PATH``. Raises :class:`PostgresNotInstalledError` naming the packages to install.
    """
    candidates: list[Path] = []
    if hint is not None:
        candidates.append(Path(hint))
    debian = DEBIAN_PG_ROOT
    if debian.is_dir():
        majors = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates.extend(p / "bin" for p in majors)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresNotInstalledError(
        f"PostgreSQL server programs (initdb, pg_ctl) were not found; {PACKAGES_HINT}"
    )


@dataclass(frozen=True)
class ClusterStatus:
    """What ``geogrid db status`` reports."""

    directory: Path
    initialised: bool
    running: bool
    socket_dir: Path
    port: int

    def describe(self) -> str:
        """Return a one-line human description."""
        if not self.initialised:
            return f"no cluster yet in {self.directory}"
        state = "running" if self.running else "stopped"
        return f"{state}: cluster in {self.directory}, socket {self.socket_dir} port {self.port}"


class EmbeddedCluster:
    """A private PostgreSQL cluster in one folder.

    Parameters
    ----------
    directory
        The cluster's folder; created if missing.
    port
        Port number of the Unix socket (no TCP listener is opened).
    pg_bin
        Folder of ``initdb``/``pg_ctl``; found with :func:`find_pg_bin` when None.
    fast
        Trade durability for speed (``fsync=off``); for throw-away test clusters only.
    """

    def __init__(
        self,
        directory: Path,
        *,
        port: int = 54329,
        pg_bin: Path | None = None,
        fast: bool = False,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.port = port
        self._pg_bin_hint = pg_bin
        self.fast = fast

    # -- paths -------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The PostgreSQL data folder."""
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the Unix socket."""
        return self.directory / "run"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.directory / "postgres.log"

    @property
    def pg_bin(self) -> Path:
        """Folder of the server programs."""
        return find_pg_bin(self._pg_bin_hint)

    def url(self, database: str = "geogrid") -> str:
        """Return the SQLAlchemy URL that reaches ``database`` through the socket."""
        socket_dir, name = quote(str(self.socket_dir)), quote(database, safe="")
        return f"postgresql+psycopg://postgres@/{name}?host={socket_dir}&port={self.port}"

    # -- state -------------------------------------------------------------------------

    def is_initialised(self) -> bool:
        """Return True when ``initdb`` has run here."""
        return (self.data_dir / "PG_VERSION").is_file()

    def is_running(self) -> bool:
        """Return True when the server of this cluster is up."""
        if not self.is_initialised():
            return False
        result = self._run(["pg_ctl", "status", "-D", str(self.data_dir)], check=False)
        return result.returncode == 0

    def status(self) -> ClusterStatus:
        """Return the cluster's state."""
        return ClusterStatus(
            directory=self.directory,
            initialised=self.is_initialised(),
            running=self.is_running(),
            socket_dir=self.socket_dir,
            port=self.port,
        )

    # -- actions -----------------------------------------------------------------------

    def init(self) -> bool:
        """Create the cluster if it does not exist yet; return True when it was created."""
        if self.is_initialised():
            return False
        self._prepare_folders()
        self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        settings = [
            "listen_addresses = ''",
            f"unix_socket_directories = '{self.socket_dir}'",
            "unix_socket_permissions = 0700",
            f"port = {self.port}",
            "max_connections = 100",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "log_min_messages = warning",
            # statements are never logged: they may carry personal data
            "log_statement = 'none'",
            "log_min_error_statement = panic",
        ]
        if self.fast:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("\n# geogrid embedded cluster\n" + "\n".join(settings) + "\n")
        return True

    def start(self) -> bool:
        """Start the server (initialising first if needed); return True when it was started."""
        self.init()
        if self.is_running():
            return False
        self._prepare_folders()
        self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
            ],
            hint_log=True,
        )
        return True

    def stop(self) -> bool:
        """Stop the server if it runs; return True when it was stopped."""
        if not self.is_running():
            return False
        self._run(["pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w"])
        return True

    def replicate_to(self, directory: Path, *, port: int) -> EmbeddedCluster:
        """Make a streaming replica of this running cluster in ``directory`` (not started).

        ``pg_basebackup -R`` copies the data folder over the replication protocol and
        writes ``standby.signal`` and ``primary_conninfo`` (the primary's socket), so the
        copy, once started, is a hot standby that follows the primary; it listens on its
        own socket at ``port``. Streaming replication is PostgreSQL's own: geogrid only
        starts it. Returns the replica's cluster (start it with :meth:`start`).
        """
        replica = EmbeddedCluster(directory, port=port, pg_bin=self._pg_bin_hint, fast=self.fast)
        if replica.is_initialised():
            raise GeoGridError(f"{replica.data_dir} holds a cluster already")
        replica._prepare_folders()
        self._run(
            [
                "pg_basebackup",
                *("-D", str(replica.data_dir), "-R", "-X", "stream", "-c", "fast"),
                *("-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres"),
            ]
        )
        settings = [
            f"unix_socket_directories = '{replica.socket_dir}'",
            f"port = {port}",
            "hot_standby = on",
            "hot_standby_feedback = on",
        ]
        with (replica.data_dir / "postgresql.auto.conf").open("a", encoding="utf-8") as handle:
            handle.write("\n# geogrid streaming replica\n" + "\n".join(settings) + "\n")
        return replica

    # -- internals ---------------------------------------------------------------------

    def _owner(self) -> pwd.struct_passwd | None:
        """Return the user the server runs as when geogrid runs as root, else None."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresNotInstalledError(
                "geogrid runs as root, and PostgreSQL refuses to; the unprivileged 'postgres' "
                f"user it would run as does not exist; {PACKAGES_HINT}"
            ) from exc

    def _prepare_folders(self) -> None:
        owner = self._owner()
        for folder in (self.directory, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o700)
        if owner is None:
            return
        for folder in (self.directory, self.socket_dir):
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        if self.data_dir.exists():
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        if not _reachable_by(self.directory, owner):
            raise GeoGridError(
                f"the embedded cluster folder {self.directory} is not reachable by the "
                f"'postgres' user (a parent folder is closed to it); set GEOGRID_HOME to a "
                "folder outside root's home, e.g. /var/lib/geogrid"
            )

    def _run(
        self, args: list[str], *, check: bool = True, hint_log: bool = False
    ) -> subprocess.CompletedProcess[str]:
        program = self.pg_bin / args[0]
        owner = self._owner()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        if owner is not None:
            env["HOME"] = owner.pw_dir
        result = subprocess.run(  # noqa: PLW1510 - checked below with a clear message
            [str(program), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(self.directory) if self.directory.exists() else None,
            user=owner.pw_uid if owner is not None else None,
            group=owner.pw_gid if owner is not None else None,
            extra_groups=[] if owner is not None else None,
        )
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip()
            if hint_log and self.log_file.exists():
                tail = self.log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
                message = f"{message}\n--- {self.log_file} ---\n{tail}"
            raise GeoGridError(f"{args[0]} failed for the cluster in {self.directory}: {message}")
        return result


def _reachable_by(path: Path, owner: pwd.struct_passwd) -> bool:
    """Return True when every parent of ``path`` lets ``owner`` traverse it."""
    for parent in [path, *path.parents]:
        try:
            info = parent.stat()
        except FileNotFoundError:
            continue
        mode = info.st_mode
        if info.st_uid == owner.pw_uid:
            allowed = bool(mode & 0o100)
        elif info.st_gid == owner.pw_gid:
            allowed = bool(mode & 0o010)
        else:
            allowed = bool(mode & 0o001)
        if not allowed:
            return False
    return True


def server_version(text: str) -> str:
    """Return the ``major.minor`` version from ``SELECT version()`` output.

    Examples
    --------
    >>> server_version("PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64")
    '15.18'
    """
    found = re.search(r"PostgreSQL (\d+(?:\.\d+)?)", text)
    return found.group(1) if found else text
