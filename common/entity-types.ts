/**
 * The entity types Memsy recognises: what extraction produces and what the graph store
 * accepts (they become Neo4j labels, so this list is also the label whitelist).
 */
export const ENTITY_TYPES = [
  'PERSON',
  'ORGANIZATION',
  'PRODUCT',
  'PLACE',
  'DATE',
  'MONEY',
  'EMAIL',
  'PHONE',
  'URL',
  'TERM',
] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
