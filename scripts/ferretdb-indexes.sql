-- Indexes FerretDB v1 can use, in the PostgreSQL cluster that holds its data (scripts/services.sh
-- applies this file at every start; it is idempotent).
--
-- FerretDB stores each collection as a table of one jsonb column and turns every indexed
-- collection index into a btree on expressions such as (_jsonb -> 'files_id'). But it filters
-- with jsonb containment, `_jsonb -> $1 @> $2`, which a btree cannot answer: every query on a
-- GridFS bucket read (and de-TOASTed) every chunk of every stored file, so one chunk lookup cost
-- a scan of all the videos there are. A GIN index (jsonb_path_ops) on the same expressions
-- answers containment, so each btree FerretDB makes gets such a twin, by an event trigger.
-- FerretDB sends the key as a parameter; only a custom plan, made with the key's value, can
-- match an index expression, hence plan_cache_mode. And the planner prices a row of the table
-- without its TOASTed document, which every one of these filters must de-TOAST (a GridFS chunk
-- is a megabyte): a bucket of a few videos is a few heap pages, so once analysed it looks
-- cheaper to scan than to look up. No scan is cheaper where an index applies, hence
-- enable_seqscan = off (a query no index answers still scans).

SET client_min_messages = warning;

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;
ALTER DATABASE ferretdb SET enable_seqscan = off;

CREATE OR REPLACE FUNCTION v2a_gin_twin(btree oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  index_row pg_index%ROWTYPE;
  columns text[] := '{}';
  expression text;
  position int;
BEGIN
  SELECT * INTO index_row FROM pg_index WHERE indexrelid = btree;
  IF NOT FOUND OR index_row.indpred IS NOT NULL
     OR (SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = btree)
        IS DISTINCT FROM 'btree' THEN
    RETURN;
  END IF;
  FOR position IN 1 .. index_row.indnatts LOOP
    expression := pg_get_indexdef(btree, position, true);
    -- Only FerretDB's own shape: one top-level key of the document.
    IF expression !~ '^\(?_jsonb -> ''[^'']+''::text\)?$' THEN
      RETURN;
    END IF;
    columns := columns || format('(%s) jsonb_path_ops', expression);
  END LOOP;
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s)',
    'v2a_gin_' || btree, index_row.indrelid::regclass, array_to_string(columns, ', ')
  );
END
$fn$;

CREATE OR REPLACE FUNCTION v2a_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index'
  LOOP
    PERFORM v2a_gin_twin(created.objid);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION v2a_on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  dropped record;
BEGIN
  -- A dropped table takes its twins along; only an index FerretDB drops by itself leaves one.
  FOR dropped IN
    SELECT objid, schema_name, object_name FROM pg_event_trigger_dropped_objects()
    WHERE object_type = 'index' AND original AND object_name NOT LIKE 'v2a_gin_%'
  LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', dropped.schema_name, 'v2a_gin_' || dropped.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS v2a_gin_twins_created;
CREATE EVENT TRIGGER v2a_gin_twins_created ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION v2a_on_create_index();
DROP EVENT TRIGGER IF EXISTS v2a_gin_twins_dropped;
CREATE EVENT TRIGGER v2a_gin_twins_dropped ON sql_drop
  WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION v2a_on_drop_index();

-- Indexes made before this file was first applied get their twins now.
DO $fn$
BEGIN
  PERFORM v2a_gin_twin(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND c.relname NOT LIKE 'v2a_gin_%';
END
$fn$;
