import {
  lintCypherQuery,
  testData,
  type DbSchema,
  type SyntaxDiagnostic,
} from '@neo4j-cypher/language-support';
import { Driver } from 'neo4j-driver';
import { BadUserInputError } from '../../common/errors';
import { ENTITY_TYPES, type EntityType } from '../../subgraphs/entity/graph/graph-store';
import {
  CYPHER,
  ENTITY_TYPE_PLACEHOLDER,
  Neo4jGraphStore,
  RELATIONSHIP_TYPE_PLACEHOLDER,
  SCHEMA_STATEMENTS,
  withEntityTypeLabel,
  withRelationshipType,
} from '../../subgraphs/entity/graph/neo4j-graph-store';

/**
 * Neo4j cannot run on this machine, so every Cypher statement of the Neo4j adapter (the
 * CYPHER object: nothing else is ever sent) is checked offline with Neo4j's own Cypher front
 * end, @neo4j-cypher/language-support (the ANTLR grammar of the Cypher language plus the
 * database's semantic analysis compiled to JS): syntax, semantics (undefined variables, wrong
 * aggregations, ...), and, against the graph model declared below and the built-in functions
 * and procedures of a real Neo4j, unknown labels, relationship types, properties, parameters,
 * functions and procedures. Each statement is checked as Cypher 5 and Cypher 25. Then the whitelist: hostile labels and relationship types are refused before
 * the driver is ever used.
 */

const CYPHER_VERSIONS = ['CYPHER 5', 'CYPHER 25'] as const;

/** Relationship types a caller might choose (RELATIONSHIP_TYPE), used to instantiate templates. */
const SAMPLE_RELATIONSHIP_TYPES = ['KNOWS', 'RELATED_TO', 'A', 'PART_OF_2', `X${'Y'.repeat(49)}`];

/**
 * The graph model of the adapter (see the comment at the top of neo4j-graph-store.ts). A
 * statement that names anything else (a typo in a label, property or parameter) fails the lint.
 */
const MODEL: DbSchema = {
  // The built-in functions and procedures of a real Neo4j (Cypher 5 and 25), as the package
  // ships them: unknown or deprecated functions and procedures are reported too.
  functions: testData.mockSchema.functions,
  procedures: testData.mockSchema.procedures,
  labels: ['Entity', 'EntityName', 'Memory', ...ENTITY_TYPES, '__ENTITY_TYPE__'],
  relationshipTypes: ['HAS_NAME', 'MENTIONED_IN', '__RELATIONSHIP_TYPE__', ...SAMPLE_RELATIONSHIP_TYPES],
  propertyKeys: [
    // Entity
    'key',
    'id',
    'orgId',
    'scopeLevel',
    'scopeId',
    'scopeKey',
    'name',
    'normalizedName',
    'type',
    'aliases',
    'normalizedAliases',
    'createdAt',
    'seenAt',
    // EntityName
    'value',
    // Memory
    'documentId',
    'relationshipFromIds',
    // relationships between entities
    'memoryId',
    'memoryIds',
    'manual',
    'updatedAt',
    // Not properties, but read like them, so the linter cannot tell: the DateTime accessor
    // `createdAt.epochMillis`, and fields of the `$rows` maps used inside node patterns.
    'epochMillis',
    'fromId',
    'toId',
    'entityId',
  ],
  /** Every parameter the adapter passes, with a value of the type it passes. */
  parameters: {
    orgId: 'org-1',
    rows: [{}],
    ids: ['id'],
    values: ['name'],
    scopeKeys: ['ORG:org-1'],
    scopeKey: 'ORG:org-1',
    type: 'PRODUCT',
    search: 'product',
    afterMs: 1,
    afterId: 'id',
    first: 10,
    entityId: 'id',
    depth: 2,
    fromId: 'id',
    toId: 'id',
    entityIds: ['id'],
    memoryKeys: ['key'],
    memoryIds: ['id'],
    batch: 1000,
  },
};

function lint(statement: string, schema: DbSchema = MODEL): SyntaxDiagnostic[] {
  return lintCypherQuery(statement, schema).diagnostics;
}

function text(diagnostic: SyntaxDiagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

/**
 * Diagnostics as readable strings, so a failure shows what Neo4j's parser said. The semantic
 * analysis swallows its own failures (it then reports nothing and returns an empty symbol
 * table), so a statement that binds variables must also come back with symbols: proof that
 * the analysis really ran on it.
 */
function problems(statement: string, schema: DbSchema = MODEL): string[] {
  const { diagnostics, symbolTables } = lintCypherQuery(statement, schema);
  const found = diagnostics.map(
    (d) => `${d.severity === 1 ? 'error' : 'warning'}: ${text(d)} (at ${d.offsets.start})`,
  );
  const bindsVariables = !/^(CYPHER \d+ )?(CREATE (CONSTRAINT|INDEX)|CALL) /.test(statement);
  if (bindsVariables && symbolTables.flat().length === 0) found.push('the semantic analysis did not run');
  return found;
}

const STATEMENTS = Object.entries(CYPHER) as Array<[keyof typeof CYPHER, string]>;

describe("Cypher lint: the linter is Neo4j's parser and does reject bad Cypher", () => {
  it('reports syntax errors, undefined variables and unknown parameters, labels, properties, functions and procedures', () => {
    const broken = lint('MATCH (n:Entity {id: $entityId} RETURN n', MODEL);
    expect(broken.some((d) => d.severity === 1 && /Invalid input/.test(text(d)))).toBe(true);

    expect(problems('MATCH (n:Entity) RETURN m')).toEqual([
      expect.stringMatching(/Variable `m` not defined/),
    ]);
    expect(problems('MATCH (n:Entity) WHERE n.orgId = $orgID RETURN n')).toEqual([
      expect.stringMatching(/Parameter \$orgID is not defined/),
    ]);
    // Labels, relationship types and properties outside the model are reported too.
    expect(problems('MATCH (n:Entiy)-[:HAS_NAMES]->(m:EntityName) RETURN n.nme, m.value')).toHaveLength(3);
    // And functions or procedures Neo4j does not have.
    expect(problems('RETURN datetime.fromEpochMilis(1) AS t')).toEqual([
      expect.stringMatching(/Function datetime.fromEpochMilis is not present/),
    ]);
    expect(problems('CALL db.awaitIndexez(300)')).toEqual([
      expect.stringMatching(/Procedure db.awaitIndexez is not present/),
    ]);
  });

  it('a statement the semantic analysis gives up on is reported, not passed silently', () => {
    // This form of datetime() makes the analyser fail internally (it then reports nothing).
    const statement = 'MATCH (e:Entity) SET e.createdAt = datetime({epochMillis: timestamp()}) RETURN zz';
    expect(problems(statement)).not.toEqual([]);
  });

  it('the same statement is clean once fixed (the checks are not vacuous)', () => {
    expect(problems('MATCH (n:Entity {id: $entityId}) RETURN n')).toEqual([]);
    expect(problems('MATCH (n:Entity)-[:HAS_NAME]->(m:EntityName) RETURN n.name, m.value')).toEqual([]);
  });

  it('a relationship type interpolated without the whitelist can break out of the statement', () => {
    // What the whitelist prevents: with a backtick in the value, the "type" ends the pattern.
    const raw = CYPHER.upsertRelationships.replaceAll(
      RELATIONSHIP_TYPE_PLACEHOLDER,
      '`KNOWS`]->(x) DETACH DELETE x //`',
    );
    expect(lint(raw).some((d) => d.severity === 1)).toBe(true);
    expect(() => withRelationshipType(CYPHER.upsertRelationships, 'KNOWS`]->(x) DETACH DELETE x //')).toThrow(
      BadUserInputError,
    );
  });
});

describe('Cypher lint: every statement of the Neo4j adapter', () => {
  it('CYPHER holds every statement, and init() runs only schema statements of it', () => {
    expect(STATEMENTS.length).toBeGreaterThanOrEqual(30);
    for (const name of SCHEMA_STATEMENTS)
      expect(CYPHER[name]).toMatch(/^CREATE (CONSTRAINT|INDEX) \w+ IF NOT EXISTS /);
    // The unique composite key of an entity (org, scope, type, normalized name).
    expect(SCHEMA_STATEMENTS).toContain('constraintEntityKey');
    expect(CYPHER.constraintEntityKey).toContain('REQUIRE e.key IS UNIQUE');
  });

  it.each(STATEMENTS)('%s: no string literals (values only as parameters)', (_name, statement) => {
    expect(statement).not.toMatch(/['"]/);
    expect(statement.trim()).not.toBe('');
  });

  for (const version of CYPHER_VERSIONS) {
    it.each(STATEMENTS)(`%s parses and analyses cleanly as ${version}`, (_name, statement) => {
      expect(problems(`${version} ${statement}`)).toEqual([]);
    });
  }

  it('the statements use only declared parameters (and the check would notice one that is not)', () => {
    const withoutOrg: DbSchema = { ...MODEL, parameters: { ...MODEL.parameters } };
    delete withoutOrg.parameters!.orgId;
    expect(lint(CYPHER.getEntities, withoutOrg).map(text)).toEqual(['Parameter $orgId is not defined.']);
  });
});

describe('Cypher lint: statements with a label or relationship type', () => {
  const labelled = STATEMENTS.filter(([, statement]) => statement.includes(ENTITY_TYPE_PLACEHOLDER));
  const typed = STATEMENTS.filter(([, statement]) => statement.includes(RELATIONSHIP_TYPE_PLACEHOLDER));

  it('the placeholders are used exactly where the adapter substitutes them', () => {
    expect(labelled.map(([name]) => name)).toEqual(['upsertEntities']);
    expect(typed.map(([name]) => name)).toEqual(['upsertRelationships']);
  });

  it.each(ENTITY_TYPES.map((type) => [type]))('entity type %s as a label parses cleanly', (type) => {
    for (const [, template] of labelled) {
      const statement = withEntityTypeLabel(template, type);
      expect(statement).not.toContain(ENTITY_TYPE_PLACEHOLDER);
      expect(statement).toContain(`:\`${type}\``);
      // The statements themselves were linted as both versions above; one version suffices here.
      expect(problems(`CYPHER 5 ${statement}`)).toEqual([]);
    }
  });

  it.each(SAMPLE_RELATIONSHIP_TYPES.map((type) => [type]))('relationship type %s parses cleanly', (type) => {
    for (const [, template] of typed) {
      const statement = withRelationshipType(template, type);
      expect(statement).not.toContain(RELATIONSHIP_TYPE_PLACEHOLDER);
      expect(statement).toContain(`[r:\`${type}\`]`);
      expect(problems(`CYPHER 5 ${statement}`)).toEqual([]);
    }
  });
});

describe('Neo4jGraphStore refuses injection before any driver call', () => {
  // Nothing listens on port 9 (discard): any query would fail with a connection error instead.
  let store: Neo4jGraphStore;
  let session: jest.SpyInstance;
  let executeQuery: jest.SpyInstance;

  beforeEach(() => {
    session = jest.spyOn(Driver.prototype, 'session');
    executeQuery = jest.spyOn(Driver.prototype, 'executeQuery');
    store = new Neo4jGraphStore({ url: 'bolt://127.0.0.1:9', user: 'neo4j', password: 'unused' });
  });
  afterEach(async () => {
    await store.close();
    jest.restoreAllMocks();
  });

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );
  }

  it('control: a valid call does reach the driver and fails with a connection error', async () => {
    const error = await rejection(store.ping());
    expect(error).not.toBeInstanceOf(BadUserInputError);
    expect((error as { code?: string }).code).toBe('ServiceUnavailable');
    expect(session).toHaveBeenCalledTimes(1);
  });

  it('a relationship type that would close the pattern and delete nodes is BAD_USER_INPUT', async () => {
    const fromId = '00000000-0000-4000-8000-000000000001';
    const toId = '00000000-0000-4000-8000-000000000002';
    for (const type of ['KNOWS]->(x) DETACH DELETE x //', 'KNOWS`]->(x) DETACH DELETE x //', 'knows', '']) {
      const error = await rejection(store.upsertRelationships('org-1', [{ fromId, toId, type }]));
      expect(error).toBeInstanceOf(BadUserInputError);
      expect((error as BadUserInputError).code).toBe('BAD_USER_INPUT');
    }
    // One hostile entry fails the whole batch, valid entries included.
    const error = await rejection(
      store.upsertRelationships('org-1', [
        { fromId, toId, type: 'KNOWS' },
        { fromId, toId, type: 'KNOWS]->(x) DETACH DELETE x //' },
      ]),
    );
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(session).not.toHaveBeenCalled();
    expect(executeQuery).not.toHaveBeenCalled();
  });

  it('an entity type outside ENTITY_TYPES is BAD_USER_INPUT, as a label and as a filter', async () => {
    const org = { level: 'ORG' as const, id: 'org-1' };
    for (const type of ['USER', 'Person', 'PERSON) DETACH DELETE n //', 'PERSON:Admin', 'PERSON`:Admin']) {
      const error = await rejection(
        store.upsertEntities('org-1', [{ scope: org, name: 'Ann', type: type as EntityType }]),
      );
      expect(error).toBeInstanceOf(BadUserInputError);
      expect((error as BadUserInputError).code).toBe('BAD_USER_INPUT');
    }
    const error = await rejection(store.findEntities('org-1', { first: 10, type: 'USER' as EntityType }));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(session).not.toHaveBeenCalled();
    expect(executeQuery).not.toHaveBeenCalled();
  });
});
