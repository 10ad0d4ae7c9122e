"""The database URL in use, in the two forms geogrid hands out.

- the **SQLAlchemy URL** (``postgresql+psycopg://…``): for ``create_engine``, geogrid itself,
  notebooks (``geogrid db url``);
- the **libpq URI** (``postgresql://…``): for ``psql``, ``pg_dump``, ``psycopg.connect`` and
  every other libpq client, which refuse a ``+driver`` scheme (``geogrid db url --libpq``).

Both come from plain string work: this module imports neither SQLAlchemy nor psycopg, so
``geogrid db status`` and ``geogrid db url`` start without them.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

from geogrid.db.cluster import EmbeddedCluster
from geogrid.errors import InvalidRequestError
from geogrid.settings import Settings, get_settings

__all__ = ["embedded_cluster", "libpq_url", "password_hidden", "resolve_url", "sqlalchemy_url"]

DRIVER = "postgresql+psycopg"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def embedded_cluster(settings: Settings | None = None) -> EmbeddedCluster:
    """Return the private cluster described by the settings (it may not be running)."""
    settings = settings or get_settings()
    return EmbeddedCluster(settings.cluster_dir, port=settings.pg_port, pg_bin=settings.pg_bin)


def resolve_url(settings: Settings | None = None) -> str:
    """Return the SQLAlchemy URL of the database in use: ``GEOGRID_DATABASE_URL`` if set
    (a plain ``postgresql://`` URL gets geogrid's driver), else the embedded cluster's."""
    settings = settings or get_settings()
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    return embedded_cluster(settings).url(settings.database_name)


def _split_scheme(url: str) -> tuple[str, str, str]:
    scheme, separator, rest = url.partition("://")
    dialect, _, driver = scheme.partition("+")
    if not separator or dialect.lower() not in POSTGRES_SCHEMES:
        shown = password_hidden(url) if separator else "the value given"
        raise InvalidRequestError(
            f"not a PostgreSQL URL: {shown} (expected postgresql://user:password@host/database)"
        )
    return dialect.lower(), driver.lower(), rest


def sqlalchemy_url(url: str) -> str:
    """Return ``url`` with geogrid's SQLAlchemy driver (psycopg 3).

    A libpq URI (``postgresql://`` or ``postgres://``) gets ``+psycopg``; a URL that names a
    driver keeps it.

    Examples
    --------
    >>> sqlalchemy_url("postgres://u:p@db.example/geogrid")
    'postgresql+psycopg://u:p@db.example/geogrid'
    >>> sqlalchemy_url("postgresql+psycopg://postgres@/geogrid?host=/run/pg&port=5433")
    'postgresql+psycopg://postgres@/geogrid?host=/run/pg&port=5433'
    """
    _, driver, rest = _split_scheme(url)
    return f"postgresql+{driver}://{rest}" if driver else f"{DRIVER}://{rest}"


def libpq_url(url: str) -> str:
    """Return the libpq URI (what ``psql`` takes) of a SQLAlchemy or libpq URL.

    User, password, host, port and database are written the same way in both; only the
    ``+driver`` goes. Query parameters (``host=/socket/dir``, ``sslmode=…``) are written
    again: SQLAlchemy reads ``+`` in them as a space, libpq does not, and a parameter
    SQLAlchemy takes several times (``host=a&host=b``) is one comma-separated list in libpq.

    Examples
    --------
    >>> libpq_url("postgresql+psycopg://postgres@/geogrid?host=/var/lib/geogrid/run&port=54329")
    'postgresql://postgres@/geogrid?host=/var/lib/geogrid/run&port=54329'
    >>> libpq_url("postgresql+psycopg://u:p%40ss@db.example:5433/geogrid?sslmode=require")
    'postgresql://u:p%40ss@db.example:5433/geogrid?sslmode=require'
    """
    _, _, rest = _split_scheme(url)
    parts = urlsplit(f"postgresql://{rest}")
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        values.setdefault(key, []).append(value)
    query = "&".join(
        f"{quote(key)}={quote(','.join(items), safe='/,')}" for key, items in values.items()
    )
    return f"postgresql://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")


def password_hidden(url: str) -> str:
    """Return ``url`` with its password (if any) shown as ``***``.

    Examples
    --------
    >>> password_hidden("postgresql+psycopg://geogrid:s3cret@db.example:5432/geogrid")
    'postgresql+psycopg://geogrid:***@db.example:5432/geogrid'
    >>> password_hidden("postgresql://postgres@/geogrid?host=/run/pg")
    'postgresql://postgres@/geogrid?host=/run/pg'
    """
    scheme, separator, rest = url.partition("://")
    netloc = urlsplit(f"//{rest}").netloc
    userinfo, at, hostport = netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not separator or not at or not colon:
        return url
    return f"{scheme}://{user}:***@{hostport}{rest[len(netloc) :]}"
