"""(e-crowd): one conversion while the videos bucket also holds other users' videos.

On FerretDB every collection is a PostgreSQL table, and FerretDB's filters (jsonb containment)
cannot use the btree indexes it makes, so a chunk query read every row of the bucket: the more
videos stored, the slower each conversion. scripts/ferretdb-indexes.sql gives each index a GIN
twin that answers those filters. This case measures the same conversion in a crowded bucket with
the twins and, in the same run, with the bench database's twins dropped (restored afterwards).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.function_case import (
    ConvertServer,
    delete_job,
    store_job,
    timed_conversions,
    warm_up,
    worst_memory_best_time,
)
from bench.measure import Measurement

ROOT = Path(__file__).resolve().parents[1]
PSQL_SECONDS = 600  # re-creating the twins reads every stored chunk once


def _psql(sql: str = "", *, file: Path | None = None, **variables: str) -> str:
    """Run SQL (read from stdin, so psql fills in ``:'name'`` variables) or a file."""
    port = os.environ.get("V2A_MONGO_PG_PORT", "57018")
    command = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "ferretdb"]
    command += ["-v", "ON_ERROR_STOP=1", "-qtA"]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    command += ["-f", str(file)] if file else []
    done = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=PSQL_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"psql on FerretDB's PostgreSQL failed: {done.stderr.strip()}")
    return done.stdout


def drop_twins(database: str) -> int:
    """Drop the GIN twins of one FerretDB database (a PostgreSQL schema); how many there were."""
    names = _psql(
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'v2a\\_gin\\_%' "
        "AND schemaname = :'schema';",
        schema=database,
    ).split()
    for name in names:
        _psql('DROP INDEX :"schema".:"name";', schema=database, name=name)
    return len(names)


def restore_twins() -> None:
    _psql(file=ROOT / "scripts" / "ferretdb-indexes.sql")


def crowded_conversions(source: Path, others: int, repeat: int) -> tuple[Measurement, Measurement]:
    """(with twins, without twins): the best of ``repeat`` conversions each, taken in turns."""
    from video2audio.infra.clients import mongo_database

    db = mongo_database()
    crowd = [store_job(db, source) for _ in range(others)]
    indexed: list[Measurement] = []
    scanned: list[Measurement] = []
    try:
        with ConvertServer() as server:
            warm_up(server, db)
            for _ in range(repeat):
                indexed += timed_conversions(server, db, source, 1)
                if not drop_twins(db.name):
                    raise RuntimeError(f"no GIN twins found for database {db.name}")
                try:
                    scanned += timed_conversions(server, db, source, 1)
                finally:
                    restore_twins()
    finally:
        for job in crowd:
            delete_job(db, job)
    return worst_memory_best_time(indexed), worst_memory_best_time(scanned)
