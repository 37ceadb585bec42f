"""Settings: the database (PostgreSQL through core/db/postgresql, or SQLite embedded).

Read from the environment only; ``config/settings/__init__.py`` imports every name.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # config/settings/ -> the project

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", default=True),
    )
}
# PostgreSQL through Django's backend with a health check that costs no round trip while
# the server has said nothing (core/db/postgresql/base.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "core.db.postgresql"
# Short OLTP queries: the cost estimates of a few aggregates over a large program
# trigger PostgreSQL's JIT, which then spends far longer compiling those queries than
# running them (console charts, segment counts; figures in bench/results/). Set
# DB_JIT=true to keep it.
if DATABASES["default"]["ENGINE"] == "core.db.postgresql" and not env_bool("DB_JIT", default=False):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Behind PgBouncer in transaction pooling mode (DB_PGBOUNCER=true) each transaction may
# get another server connection, so a cursor kept open across transactions (Django's
# server-side cursors, used by .iterator() in the CSV exports) could vanish half-way:
# they are turned off. The cost: psycopg then receives an export's whole result at once,
# so a 100,000-row export holds it in the web process's memory (bench/export_memory.py
# measures the streamed case). Prepared statements (below) are off too: a statement
# prepared on one server connection is unknown on the next. Persistent connections stay
# on: they are to PgBouncer.
DB_PGBOUNCER = env_bool("DB_PGBOUNCER", default=False)
if DB_PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Parameters bound by the server, and a statement a connection has run
# DB_PREPARE_THRESHOLD times (psycopg's default, 5) prepared: PostgreSQL then skips
# parsing and planning it, which was a third of the signed-in floor's database time
# (bench/README.md section 10). psycopg's default binds on the client and prepares nothing
# (Django's choice); DB_SERVER_SIDE_BINDING=false returns to it.
if DATABASES["default"]["ENGINE"] == "core.db.postgresql" and env_bool(
    "DB_SERVER_SIDE_BINDING", default=not DB_PGBOUNCER
):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    if not DB_PGBOUNCER:
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5)
# SQLite (the embedded mode) takes one writer at a time, while runserver and gunicorn's
# threads serve a browser's parallel requests. A transaction that began as a reader and
# then writes cannot wait for the writer ahead of it: SQLite refuses it at once with
# "database is locked". So every transaction takes the write lock when it begins
# (IMMEDIATE) and waits up to `timeout` seconds for it (Python's sqlite3 sets SQLite's
# busy timeout from it); WAL lets reads go on beside the writer, and NORMAL syncs it at
# checkpoints rather than at every commit (Django's documented setup for concurrency).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
