"""GridFS queries on FerretDB are answered by an index, not a scan of every stored file.

FerretDB v1 filters with jsonb containment, which its own btree indexes cannot answer, so
scripts/ferretdb-indexes.sql gives each of them a GIN twin in FerretDB's PostgreSQL and keeps
the planner from scanning a small analysed table instead. FerretDB's ``explain`` returns
PostgreSQL's plan for the query it runs, which is what these tests read.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg2
import pytest
from bson import ObjectId
from psycopg2 import sql

from video2audio.infra.appending_upload import AppendingUpload
from video2audio.infra.clients import mongo_database

BUCKET = "test_indexed"
CHUNK = 1024
CHUNKS = 8  # a few rows, as a bucket of a few big videos has: a scan looks cheapest


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


def _postgresql_plan(collection: str, query: dict[str, Any]) -> dict[str, Any]:
    explained = mongo_database().command("explain", {"find": collection, "filter": query})
    if "filterPushdown" not in explained:
        pytest.skip("the MongoDB-wire server is not FerretDB: there is no PostgreSQL plan to read")
    assert explained["filterPushdown"] is True
    return explained["queryPlanner"]["Plan"]


def _analyse(collection: str) -> None:
    """ANALYZE the table FerretDB keeps ``collection`` in, as autovacuum soon does by itself."""
    database = mongo_database().name
    port = int(os.environ.get("V2A_MONGO_PG_PORT", "57018"))
    connection = psycopg2.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="ferretdb", connect_timeout=10
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            metadata = sql.Identifier(database, "_ferretdb_database_metadata")
            cursor.execute(
                sql.SQL("SELECT _jsonb ->> 'table' FROM {} WHERE _jsonb ->> '_id' = %s").format(
                    metadata
                ),
                (collection,),
            )
            (table,) = cursor.fetchone()
            cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(database, table)))
    finally:
        connection.close()


@pytest.fixture(scope="module")
def stored_file_id():
    db, file_id = mongo_database(), ObjectId()
    upload = AppendingUpload(db, BUCKET, file_id, offset=0, tail=b"", chunk_size=CHUNK)
    upload.write(bytes(CHUNK * CHUNKS), on_chunk=lambda offset, tail: None)
    upload.publish(filename="indexed.bin", metadata={})
    if "filterPushdown" in mongo_database().command("explain", {"find": f"{BUCKET}.files"}):
        _analyse(f"{BUCKET}.chunks")
    yield file_id
    db[f"{BUCKET}.chunks"].delete_many({"files_id": file_id})
    db[f"{BUCKET}.files"].delete_one({"_id": file_id})


def test_a_chunk_lookup_by_file_and_number_uses_an_index(stored_file_id):
    plan = _postgresql_plan(f"{BUCKET}.chunks", {"files_id": stored_file_id, "n": 7})
    nodes = _plan_nodes(plan)
    assert "Seq Scan" not in {node["Node Type"] for node in nodes}
    assert any(node.get("Index Name", "").startswith("v2a_gin_") for node in nodes)


def test_reading_one_file_s_chunks_uses_an_index(stored_file_id):
    plan = _postgresql_plan(f"{BUCKET}.chunks", {"files_id": stored_file_id})
    nodes = _plan_nodes(plan)
    assert "Seq Scan" not in {node["Node Type"] for node in nodes}
    assert any(node.get("Index Name", "").startswith("v2a_gin_") for node in nodes)


def test_a_document_lookup_by_id_uses_an_index(stored_file_id):
    files = mongo_database()[f"{BUCKET}.files"]
    files.insert_many([{"_id": ObjectId(), "filename": f"other-{i}"} for i in range(CHUNKS)])
    try:
        nodes = _plan_nodes(_postgresql_plan(f"{BUCKET}.files", {"_id": stored_file_id}))
        assert "Seq Scan" not in {node["Node Type"] for node in nodes}
    finally:
        files.delete_many({"filename": {"$regex": "^other-"}})
