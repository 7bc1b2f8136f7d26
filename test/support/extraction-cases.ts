import type { EntityMention, ExtractionInput, MemoryCategory } from '../../subgraphs/memory/extraction/types';

/** Realistic inputs for the extraction stage, from the seeds' examples (000, 004). */

export const USER_MESSAGE: ExtractionInput['source'] = { type: 'event', kind: 'USER_MESSAGE' };
export const ASSISTANT_MESSAGE: ExtractionInput['source'] = { type: 'event', kind: 'ASSISTANT_MESSAGE' };
export const NOTE: ExtractionInput['source'] = { type: 'event', kind: 'NOTE' };
export const TOOL_RESULT: ExtractionInput['source'] = { type: 'event', kind: 'TOOL_RESULT' };
export const DOCUMENT: ExtractionInput['source'] = { type: 'document' };

export interface ExtractionCase {
  name: string;
  text: string;
  source: ExtractionInput['source'];
  occurredAt?: Date;
  /** Categories of the memories, in order (its length is the number of memories). */
  categories: MemoryCategory[];
  /** Entities that must be found (across all memories), with their types. */
  entities?: EntityMention[];
  /** Names that must not be entities (case-insensitive). */
  notEntities?: string[];
  /** Substrings the memories' contents must (not) contain. */
  contains?: string[];
  notContains?: string[];
}

export const OCCURRED_AT = new Date('2024-03-05T10:00:00Z');

export const FIVE_STEP_PROCEDURE = [
  'To issue a refund in the admin console:',
  '1. Open the Billing page.',
  '2. Search for the customer by email address.',
  '3. Select the order you want to refund.',
  '4. Click Refund and enter the amount.',
  '5. Confirm, then notify the customer by email.',
].join('\n');

export const TOOL_OUTPUT_JSON = JSON.stringify(
  {
    tool: 'lookup_order',
    status: 'ok',
    order: { id: 'ord_8812', customer: 'Acme Corp', contact: 'billing@acme.example', total: '$1,240.00' },
    refundWindowDays: 45,
  },
  null,
  2,
);

export const EXTRACTION_CASES: ExtractionCase[] = [
  {
    name: 'standard refund policy (org document)',
    text: 'Our refund policy allows returns within 30 days of purchase. Refunds are issued to the original payment method.',
    source: DOCUMENT,
    categories: ['DOCUMENT'],
    contains: ['30 days'],
  },
  {
    name: 'refund policy said in chat',
    text: 'Our standard refund policy allows returns within 30 days of purchase.',
    source: USER_MESSAGE,
    categories: ['FACT'],
    notEntities: ['Our'],
  },
  {
    name: 'VIP 60-day window (actor scope)',
    text: 'Alice has a VIP 60-day return window.',
    source: NOTE,
    categories: ['FACT'],
    entities: [{ name: 'Alice', type: 'PERSON' }],
  },
  {
    name: 'Acme 45 days (team scope)',
    text: 'Acme Corp negotiated 45-day returns for all of their orders.',
    source: USER_MESSAGE,
    categories: ['FACT'],
    entities: [{ name: 'Acme Corp', type: 'ORGANIZATION' }],
  },
  {
    name: 'seed 000 preference',
    text: 'I prefer to use Rust for performance-critical paths.',
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
    entities: [{ name: 'Rust', type: 'TERM' }],
    notEntities: ['I'],
  },
  {
    name: 'product integrations',
    text: 'Product X supports integrations with Slack and Microsoft Teams.',
    source: DOCUMENT,
    categories: ['DOCUMENT'],
    entities: [
      { name: 'Product X', type: 'PRODUCT' },
      { name: 'Slack', type: 'PRODUCT' },
      { name: 'Microsoft Teams', type: 'PRODUCT' },
    ],
    notEntities: ['Microsoft', 'Product'],
  },
  {
    name: 'product integrations said in chat',
    text: 'Product X supports integrations with Slack and Microsoft Teams.',
    source: ASSISTANT_MESSAGE,
    categories: ['FACT'],
    entities: [
      { name: 'Product X', type: 'PRODUCT' },
      { name: 'Slack', type: 'PRODUCT' },
      { name: 'Microsoft Teams', type: 'PRODUCT' },
    ],
  },
  {
    name: 'question about a product',
    text: 'Does Product X work with Slack?',
    source: USER_MESSAGE,
    categories: ['EPISODE'],
    entities: [
      { name: 'Product X', type: 'PRODUCT' },
      { name: 'Slack', type: 'PRODUCT' },
    ],
    notEntities: ['Does'],
    contains: ['Does Product X work with Slack?'],
  },
  {
    name: 'greeting before a question is dropped',
    text: 'hi there! Does Product X work with Slack?',
    source: USER_MESSAGE,
    categories: ['EPISODE'],
    entities: [{ name: 'Product X', type: 'PRODUCT' }],
    notContains: ['hi there'],
  },
  { name: 'thanks', text: 'thanks!', source: USER_MESSAGE, categories: [] },
  { name: 'ok', text: 'ok', source: USER_MESSAGE, categories: [] },
  { name: 'hi there', text: 'Hi there', source: USER_MESSAGE, categories: [] },
  {
    name: 'thanks to a person',
    text: 'Thanks so much, Alice! 👍',
    source: ASSISTANT_MESSAGE,
    categories: [],
  },
  {
    name: 'several pleasantries',
    text: 'Great, thank you.\nSounds good, bye!',
    source: USER_MESSAGE,
    categories: [],
  },
  {
    name: 'tool output JSON',
    text: TOOL_OUTPUT_JSON,
    source: TOOL_RESULT,
    categories: ['EPISODE'],
    entities: [
      { name: 'Acme Corp', type: 'ORGANIZATION' },
      { name: 'billing@acme.example', type: 'EMAIL' },
      { name: '$1,240.00', type: 'MONEY' },
    ],
    contains: ['"refundWindowDays":45', '"customer":"Acme Corp"'],
  },
  {
    name: 'five-step procedure',
    text: FIVE_STEP_PROCEDURE,
    source: ASSISTANT_MESSAGE,
    categories: ['PROCEDURE'],
    contains: ['1. Open the Billing page.', '5. Confirm, then notify the customer by email.'],
    notEntities: ['Open', 'Search', 'Select', 'Confirm'],
  },
  {
    name: '"to do X, first" procedure',
    text: 'To rotate the API key, first revoke the old key in Settings, then create a new one.',
    source: USER_MESSAGE,
    categories: ['PROCEDURE'],
  },
  {
    name: 'event in time with a relative date',
    text: 'Yesterday I deployed the Postgres migration to staging.',
    source: USER_MESSAGE,
    occurredAt: OCCURRED_AT,
    categories: ['EPISODE'],
    entities: [
      { name: 'Postgres', type: 'PRODUCT' },
      { name: '2024-03-04', type: 'DATE' },
    ],
    notEntities: ['Yesterday'],
    contains: ['Yesterday (2024-03-04) I deployed'],
  },
  {
    name: 'we shipped',
    text: 'We shipped v2.3 of the billing service last week.',
    source: NOTE,
    categories: ['EPISODE'],
    contains: ['v2.3'],
  },
  {
    name: 'contact details',
    text: 'You can reach Bob Smith at bob.smith@acme.example or +1 415-555-0100, and the docs are at https://docs.acme.example/refunds. The plan costs $49.99 per month.',
    source: NOTE,
    categories: ['FACT'],
    entities: [
      { name: 'Bob Smith', type: 'PERSON' },
      { name: 'bob.smith@acme.example', type: 'EMAIL' },
      { name: '+1 415-555-0100', type: 'PHONE' },
      { name: 'https://docs.acme.example/refunds', type: 'URL' },
      { name: '$49.99', type: 'MONEY' },
    ],
  },
  {
    name: 'people, places and organisations',
    text: 'Sarah Connor from Google moved to the Berlin office on 3 March 2024.',
    source: NOTE,
    categories: ['FACT'],
    entities: [
      { name: 'Sarah Connor', type: 'PERSON' },
      { name: 'Google', type: 'ORGANIZATION' },
      { name: 'Berlin', type: 'PLACE' },
      { name: '3 March 2024', type: 'DATE' },
    ],
  },
  {
    name: 'please always',
    text: 'Please always reply in English and keep answers short.',
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
    notEntities: ['Please'],
  },
  {
    name: "don't like",
    text: "I don't like long status meetings.",
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
  },
  {
    name: 'favourite',
    text: 'My favourite editor is Neovim.',
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
  },
  {
    name: "I'd rather",
    text: "I'd rather use Go than Java for the new worker.",
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
  },
  {
    name: 'I hate',
    text: 'I hate waiting twenty minutes for CI.',
    source: USER_MESSAGE,
    categories: ['PREFERENCE'],
  },
  {
    name: 'sentence-initial ordinary words are not entities',
    text: 'Open the settings page and click Save. Thanks for the Slack invite.',
    source: USER_MESSAGE,
    categories: ['EPISODE'],
    entities: [{ name: 'Slack', type: 'PRODUCT' }],
    notEntities: ['Open', 'Thanks'],
  },
  {
    name: 'a long turn gives one memory per informative sentence',
    text:
      'Hi! Our team moved the nightly exports from Jenkins to GitHub Actions in January. ' +
      'The exports now finish in about 12 minutes. I prefer to get the failure alerts in Slack rather than by email. ' +
      'Can Product X post them to the #exports channel? Thanks!',
    source: USER_MESSAGE,
    categories: ['EPISODE', 'FACT', 'PREFERENCE', 'EPISODE'],
    entities: [
      { name: 'Jenkins', type: 'PRODUCT' },
      { name: 'GitHub Actions', type: 'PRODUCT' },
      { name: 'Slack', type: 'PRODUCT' },
      { name: 'Product X', type: 'PRODUCT' },
    ],
    notContains: ['Hi!', 'Thanks!'],
  },
];

/** A product document of about 3,000 characters: sections, bullets, numbered steps. */
export const LONG_DOCUMENT = `# Product X: integrations and refunds

Product X is the customer support workspace that Acme Inc sells to mid-sized software companies. It supports integrations with Slack and Microsoft Teams, and it can open tickets from email, web forms and the public API. Every workspace has an owner, who manages billing and user access, and any number of agents.

## Integrations

The Slack integration posts a message to a channel whenever a ticket is created, assigned or closed. Agents can reply to customers from the thread without opening Product X. The Microsoft Teams integration offers the same notifications, but replies from Teams are limited to internal notes. Both integrations are included in every plan at no extra cost.
Supported notification events:
- ticket created
- ticket assigned to an agent
- ticket closed or reopened

Integrations are configured by the workspace owner. Changes take effect within five minutes and are recorded in the audit log for 365 days.

## Refund policy

Our refund policy allows returns within 30 days of purchase. Refunds are issued to the original payment method within ten business days. Annual plans are refunded pro rata for the unused months. Customers on the Enterprise plan may have negotiated different terms; for example, Acme Corp negotiated 45-day returns, and individual VIP customers can get a 60-day return window. When a customer contract and this policy disagree, the contract wins.

Refunds above $5,000 need the approval of the finance team in Berlin. The finance team answers approval requests within one business day and can be reached at finance@acme.example.

## How to issue a refund

1. Open the Billing page in the admin console.
2. Search for the customer by email address.
3. Select the order and click Refund.
4. Enter the amount and the reason for the refund.
5. Confirm, then notify the customer by email.

## Service levels

Our standard SLA guarantees 99.9% uptime for the web application and the API, measured monthly. If uptime falls below that, customers receive a credit of 10% of the monthly fee for each full hour of downtime, up to 50% of the fee. Scheduled maintenance is announced seven days in advance on the status page and does not count as downtime. Support answers urgent tickets within one hour, around the clock, and other tickets within one business day.

## Data and security

Customer data is stored in the European Union, in data centres in Frankfurt and Dublin, and is encrypted at rest and in transit. Backups are taken every six hours and kept for 35 days. Workspace owners can export all tickets as JSON or CSV at any time from the settings page. When a subscription ends, the workspace is kept read-only for 30 days and then deleted, together with its backups, within a further 35 days. Security questions go to security@acme.example, and the current SOC 2 report is available on request under a non-disclosure agreement.
`;
