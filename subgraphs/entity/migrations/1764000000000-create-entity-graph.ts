import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The embedded graph store (PostgresGraphStore): entities resolved per scope, their aliases,
 * typed relationships (with the memories each was learned from) and mentions (entity ↔
 * memory). Plain tables walked with recursive CTEs; every row carries its org so every
 * read and delete is org-scoped by an index. Removing an entity cascades to everything
 * that refers to it.
 */
export class CreateEntityGraph1764000000000 implements MigrationInterface {
  name = 'CreateEntityGraph1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE entity.entities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      scope_level text NOT NULL CHECK (scope_level IN ('ACTOR', 'ROLE', 'TEAM', 'ORG', 'WORLD')),
      scope_id text NOT NULL,
      type text NOT NULL CHECK (type IN ('PERSON', 'ORGANIZATION', 'PRODUCT', 'PLACE', 'DATE', 'MONEY',
        'EMAIL', 'PHONE', 'URL', 'TERM')),
      name text NOT NULL,
      normalized_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      CONSTRAINT entities_identity_key UNIQUE (org_id, scope_level, scope_id, type, normalized_name))`);
    // Resolution by exact normalised name across the scopes of a chain.
    await db.query(`CREATE INDEX entities_name_idx ON entity.entities (org_id, normalized_name)`);
    // Keyset listing (findEntities).
    await db.query(`CREATE INDEX entities_org_created_idx ON entity.entities (org_id, created_at, id)`);

    await db.query(`CREATE TABLE entity.aliases (
      entity_id uuid NOT NULL REFERENCES entity.entities(id) ON DELETE CASCADE,
      org_id text NOT NULL,
      alias text NOT NULL,
      normalized_alias text NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      PRIMARY KEY (entity_id, normalized_alias))`);
    await db.query(`CREATE INDEX aliases_resolve_idx ON entity.aliases (org_id, normalized_alias)`);

    // One row per (from, to, type); memory_id is the memory it was first learned from (kept
    // pointing at one that still exists), relationship_sources lists all of them, and `manual`
    // marks one asserted without a memory (never removed by deleting memories).
    await db.query(`CREATE TABLE entity.relationships (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      from_id uuid NOT NULL REFERENCES entity.entities(id) ON DELETE CASCADE,
      to_id uuid NOT NULL REFERENCES entity.entities(id) ON DELETE CASCADE,
      type text NOT NULL CHECK (type ~ '^[A-Z][A-Z0-9_]{0,49}$'),
      memory_id uuid,
      manual boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      CONSTRAINT relationships_identity_key UNIQUE (org_id, from_id, to_id, type))`);
    // Outgoing edges are walked through the unique index (org_id, from_id, ...); incoming here.
    await db.query(`CREATE INDEX relationships_to_idx ON entity.relationships (org_id, to_id, from_id)`);

    await db.query(`CREATE TABLE entity.relationship_sources (
      relationship_id uuid NOT NULL REFERENCES entity.relationships(id) ON DELETE CASCADE,
      memory_id uuid NOT NULL,
      org_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (relationship_id, memory_id))`);
    await db.query(
      `CREATE INDEX relationship_sources_memory_idx ON entity.relationship_sources (org_id, memory_id)`,
    );

    await db.query(`CREATE TABLE entity.mentions (
      entity_id uuid NOT NULL REFERENCES entity.entities(id) ON DELETE CASCADE,
      memory_id uuid NOT NULL,
      org_id text NOT NULL,
      memory_scope_level text NOT NULL CHECK (memory_scope_level IN ('ACTOR', 'ROLE', 'TEAM', 'ORG', 'WORLD')),
      memory_scope_id text NOT NULL,
      document_id text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (entity_id, memory_id))`);
    await db.query(`CREATE INDEX mentions_memory_idx ON entity.mentions (org_id, memory_id)`);
    await db.query(
      `CREATE INDEX mentions_memory_scope_idx ON entity.mentions (org_id, memory_scope_level, memory_scope_id)`,
    );

    await db.query(RESOLVE_NAMES);
    await db.query(NEIGHBOURS);
    await db.query(SHORTEST_PATH);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION IF EXISTS entity.shortest_path(text, uuid, uuid, text[], int)`);
    await db.query(`DROP FUNCTION IF EXISTS entity.neighbours(text, uuid, int, text[])`);
    await db.query(`DROP FUNCTION IF EXISTS entity.resolve_names(text, text[], text[])`);
    for (const table of ['mentions', 'relationship_sources', 'relationships', 'aliases', 'entities']) {
      await db.query(`DROP TABLE IF EXISTS entity.${table}`);
    }
  }
}

/*
 * The graph reads on the hot path are PL/pgSQL functions: static SQL whose plans PL/pgSQL
 * caches per session, so a call skips parsing and planning (on the embedded PGlite that is
 * most of the cost: a 1-hop walk took ~2 ms as a plain statement and ~0.6 ms as a call).
 * Scopes are passed as 'LEVEL:id' keys (a level never contains ':'), most specific first.
 */

/** Columns of an entity as JSON keys (row_to_json / json_agg of a row of these). */
const ENTITY_JSON = `e.id, e.org_id, e.scope_level, e.scope_id, e.name, e.normalized_name, e.type, e.created_at,
  ARRAY(SELECT a.alias FROM entity.aliases a WHERE a.entity_id = e.id ORDER BY a.seq) AS aliases`;
const RELATIONSHIP_JSON = `r.id, r.org_id, r.from_id, r.to_id, r.type, r.memory_id, r.created_at`;

/** Entities whose normalised name or an alias is one of p_names, within p_scopes, in scope order. */
const RESOLVE_NAMES = `
CREATE FUNCTION entity.resolve_names(p_org text, p_names text[], p_scopes text[])
RETURNS TABLE (o_key text, o_entity json)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH hits AS (
    SELECT e.id, e.normalized_name AS key FROM entity.entities e
    WHERE e.org_id = p_org AND e.normalized_name = ANY(p_names)
    UNION
    SELECT a.entity_id, a.normalized_alias FROM entity.aliases a
    WHERE a.org_id = p_org AND a.normalized_alias = ANY(p_names))
  SELECT h.key, row_to_json(x)
  FROM hits h
  CROSS JOIN LATERAL (
    SELECT ${ENTITY_JSON} FROM entity.entities e
    WHERE e.id = h.id AND e.org_id = p_org AND e.scope_level || ':' || e.scope_id = ANY(p_scopes)) x
  ORDER BY h.key, array_position(p_scopes, x.scope_level || ':' || x.scope_id), x.created_at, x.id;
END
$fn$`;

/**
 * The entities within p_depth hops of p_start (itself included, with its depth), walking
 * relationships in both directions and entering only entities of p_scopes, and every
 * relationship among them. Breadth-first, depth-limited, cycle-safe: UNION keeps one row per
 * (entity, depth), so a cycle adds at most one row per entity and level, and min(depth) is
 * the BFS distance.
 */
const NEIGHBOURS = `
CREATE FUNCTION entity.neighbours(p_org text, p_start uuid, p_depth int, p_scopes text[])
RETURNS TABLE (o_entities json, o_relationships json)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH RECURSIVE
  walk(id, depth) AS (
    SELECT e.id, 0 FROM entity.entities e
    WHERE e.org_id = p_org AND e.id = p_start AND e.scope_level || ':' || e.scope_id = ANY(p_scopes)
    UNION
    SELECT e.id, w.depth + 1
    FROM walk w
    CROSS JOIN LATERAL (
      SELECT r.to_id AS id FROM entity.relationships r WHERE r.org_id = p_org AND r.from_id = w.id
      UNION ALL
      SELECT r.from_id FROM entity.relationships r WHERE r.org_id = p_org AND r.to_id = w.id) n
    JOIN entity.entities e ON e.id = n.id
    WHERE w.depth < p_depth AND e.scope_level || ':' || e.scope_id = ANY(p_scopes)),
  reached AS (SELECT id, min(depth) AS depth FROM walk GROUP BY id)
  SELECT
    (SELECT coalesce(json_agg(x ORDER BY x.depth, x.name, x.id), '[]')
     FROM (SELECT ${ENTITY_JSON}, d.depth FROM entity.entities e JOIN reached d ON d.id = e.id
           WHERE e.id = ANY(ARRAY(SELECT id FROM reached))) x),
    (SELECT coalesce(json_agg(y ORDER BY y.created_at, y.id), '[]')
     FROM (SELECT ${RELATIONSHIP_JSON} FROM entity.relationships r
           JOIN reached a ON a.id = r.from_id JOIN reached b ON b.id = r.to_id
           WHERE r.org_id = p_org) y);
END
$fn$`;

/**
 * A shortest path from p_from to p_to of at most p_max_hops relationships (either
 * direction) through entities of p_scopes only: its entities in order and one relationship
 * per hop; no row when there is none.
 *
 * Bidirectional breadth-first search in one statement. Each step of `search` expands the
 * smaller frontier by one level (only into entities of the allowed scopes, never into one that
 * side has visited) and stops at the first level that touches the other side; the meeting
 * entity nearest to the other end makes the path a shortest one. Arrays carry the state from
 * step to step (frontiers, visited sets and their depths); each step's row keeps that level's
 * entities and their parents, from which the two halves of the path are walked back.
 */
const SHORTEST_PATH = `
CREATE FUNCTION entity.shortest_path(p_org text, p_from uuid, p_to uuid, p_scopes text[], p_max_hops int)
RETURNS TABLE (o_entities json, o_relationships json)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH RECURSIVE
  ends AS (
    SELECT count(*) AS n FROM entity.entities e
    WHERE e.org_id = p_org AND e.id IN (p_from, p_to) AND e.scope_level || ':' || e.scope_id = ANY(p_scopes)),
  search(step, side, level_no, ids, parents, fl, ff, fv, fd, bl, bf, bv, bd, meet) AS (
    SELECT 0, 'S', 0, '{}'::uuid[], '{}'::uuid[],
      0, ARRAY[p_from], ARRAY[p_from], ARRAY[0],
      0, ARRAY[p_to], ARRAY[p_to], ARRAY[0],
      CASE WHEN p_from = p_to THEN p_from END
    FROM ends WHERE ends.n = CASE WHEN p_from = p_to THEN 1 ELSE 2 END
    UNION ALL
    SELECT s.step + 1,
      CASE WHEN c.fwd THEN 'F' ELSE 'B' END,
      CASE WHEN c.fwd THEN s.fl + 1 ELSE s.bl + 1 END,
      x.ids, x.parents,
      CASE WHEN c.fwd THEN s.fl + 1 ELSE s.fl END,
      CASE WHEN c.fwd THEN x.ids ELSE s.ff END,
      CASE WHEN c.fwd THEN s.fv || x.ids ELSE s.fv END,
      CASE WHEN c.fwd THEN s.fd || array_fill(s.fl + 1, ARRAY[cardinality(x.ids)]) ELSE s.fd END,
      CASE WHEN c.fwd THEN s.bl ELSE s.bl + 1 END,
      CASE WHEN c.fwd THEN s.bf ELSE x.ids END,
      CASE WHEN c.fwd THEN s.bv ELSE s.bv || x.ids END,
      CASE WHEN c.fwd THEN s.bd ELSE s.bd || array_fill(s.bl + 1, ARRAY[cardinality(x.ids)]) END,
      m.id
    FROM search s
    CROSS JOIN LATERAL (SELECT cardinality(s.ff) <= cardinality(s.bf) AS fwd) c
    CROSS JOIN LATERAL (
      SELECT coalesce(array_agg(n.id ORDER BY n.id), '{}') AS ids,
             coalesce(array_agg(n.parent ORDER BY n.id), '{}') AS parents
      FROM (
        SELECT DISTINCT ON (nb.id) nb.id, nb.parent
        FROM unnest(CASE WHEN c.fwd THEN s.ff ELSE s.bf END) AS f(id)
        CROSS JOIN LATERAL (
          SELECT r.to_id AS id, f.id AS parent FROM entity.relationships r WHERE r.org_id = p_org AND r.from_id = f.id
          UNION ALL
          SELECT r.from_id, f.id FROM entity.relationships r WHERE r.org_id = p_org AND r.to_id = f.id) nb
        JOIN entity.entities e ON e.id = nb.id
        WHERE e.scope_level || ':' || e.scope_id = ANY(p_scopes)
          AND NOT EXISTS (
            SELECT 1 FROM unnest(CASE WHEN c.fwd THEN s.fv ELSE s.bv END) AS v(id) WHERE v.id = nb.id)
        ORDER BY nb.id, nb.parent) n) x
    LEFT JOIN LATERAL (
      SELECT o.id FROM unnest(x.ids) AS t(id)
      JOIN unnest(CASE WHEN c.fwd THEN s.bv ELSE s.fv END, CASE WHEN c.fwd THEN s.bd ELSE s.fd END) AS o(id, depth)
        ON o.id = t.id
      ORDER BY o.depth, o.id LIMIT 1) m ON true
    WHERE s.meet IS NULL AND s.fl + s.bl < p_max_hops AND cardinality(s.ff) > 0 AND cardinality(s.bf) > 0),
  found AS (SELECT * FROM search WHERE meet IS NOT NULL LIMIT 1),
  forward(lvl, id) AS (
    SELECT f.fd[array_position(f.fv, f.meet)], f.meet FROM found f
    UNION ALL
    SELECT w.lvl - 1, s.parents[array_position(s.ids, w.id)]
    FROM forward w JOIN search s ON s.side = 'F' AND s.level_no = w.lvl
    WHERE w.lvl > 0),
  backward(lvl, id) AS (
    SELECT f.bd[array_position(f.bv, f.meet)], f.meet FROM found f
    UNION ALL
    SELECT w.lvl - 1, s.parents[array_position(s.ids, w.id)]
    FROM backward w JOIN search s ON s.side = 'B' AND s.level_no = w.lvl
    WHERE w.lvl > 0),
  path(pos, id) AS (
    SELECT lvl, id FROM forward
    UNION ALL
    SELECT (SELECT max(lvl) FROM forward) + (SELECT max(lvl) FROM backward) - lvl, id
    FROM backward WHERE lvl < (SELECT max(lvl) FROM backward))
  SELECT
    (SELECT json_agg(x ORDER BY x.pos)
     FROM (SELECT p.pos, ${ENTITY_JSON} FROM path p JOIN entity.entities e ON e.id = p.id) x),
    (SELECT coalesce(json_agg(y ORDER BY y.pos), '[]')
     FROM (SELECT p.pos, h.* FROM path p JOIN path q ON q.pos = p.pos - 1
           CROSS JOIN LATERAL (
             SELECT ${RELATIONSHIP_JSON} FROM entity.relationships r
             WHERE r.org_id = p_org
               AND ((r.from_id = q.id AND r.to_id = p.id) OR (r.from_id = p.id AND r.to_id = q.id))
             ORDER BY r.created_at, r.id LIMIT 1) h) y)
  WHERE EXISTS (SELECT 1 FROM found);
END
$fn$`;
