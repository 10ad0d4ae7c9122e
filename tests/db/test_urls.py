"""Database URLs: the libpq form means what SQLAlchemy's form means.

Each URL is read twice, independently: by SQLAlchemy (``make_url``, what the engine
connects to) and, after :func:`libpq_url`, by libpq itself (``conninfo_to_dict`` calls
``PQconninfoParse``, the parser psql uses). Both must name the same connection.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from geogrid.db.cluster import EmbeddedCluster
from geogrid.db.urls import libpq_url, password_hidden, resolve_url, sqlalchemy_url
from geogrid.errors import InvalidRequestError
from geogrid.settings import Settings

URLS = [
    "postgresql+psycopg://postgres@/geogrid?host=/var/lib/geogrid/postgres/run&port=54329",
    "postgresql+psycopg://geogrid:s3cret@db.example.gov.cn:5433/geogrid?sslmode=require",
    "postgresql+psycopg://us%20er:p%40ss%2Bw%3Ard@10.0.0.5/my%20db",
    "postgresql+psycopg://u:p@h/db?application_name=a+b%26c&options=-c%20work_mem%3D64MB",
    "postgresql+psycopg://u@[::1]:5432/db",
    "postgresql://u:p@h/db?connect_timeout=5",
    "postgres://u@h:6543/db",
]


def sqlalchemy_reading(url: str) -> dict[str, str]:
    parsed = make_url(url)
    reading = {
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.host,
        "port": None if parsed.port is None else str(parsed.port),
        "dbname": parsed.database,
    }
    reading.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return {k: v for k, v in reading.items() if v is not None}


@pytest.mark.parametrize("url", URLS)
def test_libpq_reads_what_sqlalchemy_reads(url: str) -> None:
    converted = libpq_url(url)
    assert converted.startswith("postgresql://")
    assert conninfo_to_dict(converted) == sqlalchemy_reading(sqlalchemy_url(url))


@pytest.mark.parametrize("folder", ["/var/lib/geogrid", "/tmp/a folder+with&odd#chars%"])
def test_embedded_url_survives_odd_folders(folder: str) -> None:
    cluster = EmbeddedCluster(Path(folder), port=54329)
    url = cluster.url("geogrid")
    assert make_url(url).query["host"] == str(cluster.socket_dir)
    assert conninfo_to_dict(libpq_url(url)) == {
        "user": "postgres",
        "dbname": "geogrid",
        "host": str(cluster.socket_dir),
        "port": "54329",
    }


def test_resolve_url_gives_a_plain_url_geogrids_driver(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql://u:p@db.example/geogrid")
    assert resolve_url(settings) == "postgresql+psycopg://u:p@db.example/geogrid"
    embedded = Settings(home=tmp_path, database_url=None, pg_port=5999, database_name="g2")
    assert make_url(resolve_url(embedded)).query == {
        "host": str(tmp_path / "postgres" / "run"),
        "port": "5999",
    }


def test_other_databases_are_refused_without_their_password() -> None:
    with pytest.raises(InvalidRequestError, match=r"mysql://u:\*\*\*@h/db") as caught:
        libpq_url("mysql://u:hunter2@h/db")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidRequestError, match="not a PostgreSQL URL"):
        sqlalchemy_url("geogrid")


def test_password_hidden_keeps_everything_else() -> None:
    url = "postgresql+psycopg://u:p@ss@h:5/db?host=/run/pg"
    assert password_hidden(url) == "postgresql+psycopg://u:***@h:5/db?host=/run/pg"
    assert make_url(password_hidden(url)).host == "h"
    assert password_hidden("postgresql://u@/db?host=/run/pg") == "postgresql://u@/db?host=/run/pg"
