"""The newsroom's SQL database: SQLite by default, PostgreSQL with ``DATABASE_URL``.

``setup_django()`` is the one call a notebook, a test or a served app makes: it points
Django at ``scalecode.newsroom.settings``, allows the ORM inside Jupyter's event loop
(``DJANGO_ALLOW_ASYNC_UNSAFE``; Django raises ``SynchronousOnlyOperation`` in a kernel
otherwise), runs the migrations and loads the committed data set, each at most once
and under a lock, so several processes can start together safely.

- default: SQLite file ``build/newsroom.sqlite3`` (``SCALECODE_SQLITE_PATH`` overrides it);
- ``DATABASE_URL=postgresql://user@host:port/db``: PostgreSQL through psycopg 3, checked
  with a 2 s connect timeout; when unreachable, a clear message and the SQLite default.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import build_dir

CONNECT_TIMEOUT_S = 2
START_POSTGRES_HINT = (
    "start PostgreSQL (pg_ctlcluster <version> main start) or unset DATABASE_URL to use SQLite"
)


@dataclass(frozen=True)
class DatabaseBackend:
    """Which database Django uses: ``kind`` is ``"postgresql"`` or ``"sqlite"``."""

    kind: str
    config: dict
    detail: str
    problem: str | None = None

    @property
    def is_real(self) -> bool:
        return self.kind == "postgresql"


def sqlite_path() -> Path:
    """The SQLite file: ``SCALECODE_SQLITE_PATH`` or ``build/newsroom.sqlite3``."""
    env = os.environ.get("SCALECODE_SQLITE_PATH")
    path = Path(env) if env else build_dir() / "newsroom.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _sqlite_config() -> dict:
    # timeout: seconds a writer waits for another process' lock instead of failing
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_path()), "OPTIONS": {"timeout": 20}}


def probe_postgres(config: dict) -> str | None:
    """Connect once with a short timeout; ``None`` when it works, else the reason."""
    import psycopg

    try:
        with psycopg.connect(
            dbname=config.get("NAME") or "postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            connect_timeout=CONNECT_TIMEOUT_S,
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # psycopg.OperationalError and friends
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


@cache
def _decide(url: str | None) -> DatabaseBackend:
    if not url:
        config = _sqlite_config()
        return DatabaseBackend("sqlite", config, f"SQLite at {config['NAME']}")
    import dj_database_url

    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:  # unknown scheme, malformed URL
        message = f"DATABASE_URL={url!r} cannot be parsed ({exc}); use postgresql://user@host:port/dbname"
        print(f"⚠ {message}. Using SQLite.", file=sys.stderr)
        return DatabaseBackend("sqlite", _sqlite_config(), "SQLite (fallback)", problem=message)
    if "sqlite" in config["ENGINE"]:
        return DatabaseBackend("sqlite", config | {"OPTIONS": {"timeout": 20}}, f"SQLite at {config['NAME']}")
    if "postgresql" not in config["ENGINE"]:
        message = f"DATABASE_URL={url} is not PostgreSQL or SQLite; the workshop supports those two"
        print(f"⚠ {message}. Using SQLite.", file=sys.stderr)
        return DatabaseBackend("sqlite", _sqlite_config(), "SQLite (fallback)", problem=message)
    config.setdefault("OPTIONS", {})["connect_timeout"] = CONNECT_TIMEOUT_S
    problem = probe_postgres(config)
    if problem:
        message = f"DATABASE_URL={url} is unreachable ({problem}); {START_POSTGRES_HINT}"
        print(f"⚠ {message}. Using SQLite.", file=sys.stderr)
        return DatabaseBackend("sqlite", _sqlite_config(), "SQLite (fallback)", problem=message)
    where = f"{config.get('HOST') or 'socket'}:{config.get('PORT') or 5432}/{config['NAME']}"
    return DatabaseBackend("postgresql", config, f"PostgreSQL at {where}")


def database_backend() -> DatabaseBackend:
    """The database this process uses (decided once per ``DATABASE_URL``)."""
    return _decide(os.environ.get("DATABASE_URL") or None)


@contextlib.contextmanager
def _exclusive(tag: str) -> Iterator[None]:
    """Hold a lock shared by every process using the same database.

    PostgreSQL: a session advisory lock; SQLite: ``flock`` on a file beside the database.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        key = int.from_bytes(f"scalecode:{tag}".encode()[:8].ljust(8, b"_"), "big") >> 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    else:
        lock_path = Path(str(connection.settings_dict["NAME"]) + f".{tag}.lock")
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_READY = False


def setup_django(*, load_data: bool = True, verbose: bool = False) -> DatabaseBackend:
    """Configure Django for the newsroom app, migrate, and load the data set once.

    Safe to call many times and from several processes at once. Returns the
    ``DatabaseBackend`` in use. Raises ``django.core.exceptions.ImproperlyConfigured``
    when another settings module is already configured in this process.
    """
    global _READY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalecode.newsroom.settings")
    # Jupyter runs cells inside an event loop; the ORM refuses to run there unless told
    # that this single-threaded use is fine (Django docs: "Async safety").
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django
    from django.conf import settings

    django.setup()
    if settings.SETTINGS_MODULE != "scalecode.newsroom.settings" and "scalecode.newsroom" not in (
        settings.INSTALLED_APPS
    ):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"Django is configured with {settings.SETTINGS_MODULE}, which lacks the newsroom app"
        )
    if not _READY:
        from django.core.management import call_command

        with _exclusive("migrate"):
            call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
        _READY = True
    if load_data:
        from ..newsroom.loader import load_newsroom

        with _exclusive("load"):
            load_newsroom(verbose=verbose)
    return database_backend()
