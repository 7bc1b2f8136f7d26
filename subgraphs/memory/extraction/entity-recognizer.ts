import {
  analyseWithCompromise,
  analyseWithWink,
  isOutOfVocabulary,
  trimEntity,
  type CompromiseAnalysis,
  type Term,
  type WinkAnalysis,
} from './nlp';
import type { Sentence } from './sentence-splitter';
import type { EntityMention, EntityType } from './types';

/** A list of words written as one space-separated string. */
function words(list: string): string[] {
  return list.split(/\s+/).filter(Boolean);
}

/** A sentence with both engines' analyses of its body (computed once, shared by categorizer and recognizer). */
export interface AnalysedSentence extends Sentence {
  wink: WinkAnalysis;
  compromise: CompromiseAnalysis;
}

export function analyseSentence(sentence: Sentence): AnalysedSentence {
  return {
    ...sentence,
    wink: analyseWithWink(sentence.body),
    compromise: analyseWithCompromise(sentence.body),
  };
}

export interface RecognitionContext {
  /**
   * Lower-cased words written capitalised in the middle of a sentence somewhere in the same
   * input: a sentence-initial occurrence of one of them is a name, not an ordinary word.
   */
  knownProper: ReadonlySet<string>;
  /** Resolves `yesterday`/`today`/`tomorrow` to a calendar date (UTC); without it they are not entities. */
  occurredAt?: Date;
}

/** Well-known software products and services: a capitalised mention of one is a PRODUCT. */
const PRODUCTS = new Set([
  ...words(
    'slack zoom jira confluence notion trello asana github gitlab bitbucket postgres ' +
      'postgresql mysql mariadb sqlite mongodb redis elasticsearch opensearch kafka rabbitmq ' +
      'kubernetes docker terraform ansible aws gcp azure salesforce hubspot zendesk intercom ' +
      'stripe shopify paypal excel outlook gmail chrome firefox safari windows macos linux ' +
      'ubuntu debian android ios iphone ipad figma tableau snowflake bigquery datadog grafana ' +
      'prometheus sentry vercel netlify heroku chatgpt whatsapp discord dropbox sharepoint ' +
      'onedrive pagerduty okta auth0 twilio mailchimp airtable graphql node.js nodejs react vue ' +
      'angular django rails pgvector neo4j jenkins circleci npm webex quickbooks',
  ),
  'microsoft teams',
  'google docs',
  'google drive',
  'google sheets',
  'google meet',
  'github actions',
]);

/** Programming languages and similar technologies: TERMs (a language is not a product). */
const TECH_TERMS = new Set(
  words(
    'rust python go golang java javascript typescript kotlin swift ruby php c++ c# scala ' +
      'haskell elixir erlang sql bash perl dart lua clojure ocaml fortran cobol wasm ' +
      'webassembly',
  ),
);

/** Acronyms of the trade: TERMs, even where compromise reads them as organisations (`API`). */
const ACRONYM_TERMS = new Set(
  words(
    'api apis sdk sla slas csv json xml yaml html http https url sql ci cd vip faq sso saml pdf ui ux ' +
      'cli gdpr soc kpi eta crm erp seo cdn dns vpn ssh tls ssl jwt oauth llm ai ml gpu cpu ram ssd',
  ),
);

/** Last words that make a capitalised run an organisation (`Acme Corp`, `Siemens AG`). */
const ORG_SUFFIXES = new Set(
  words(
    'inc corp corporation co company ltd llc llp plc gmbh ag sa bv nv group holdings labs ' +
      'technologies systems bank university foundation',
  ),
);

/** Words before a name that say it is a tool or service (`integrates with X`, `using X`). */
const PRODUCT_BEFORE = new Set(
  words(
    'with using use uses used via through integrate integrates integrated install installed ' +
      'deploy deployed migrate migrated upgrade upgraded',
  ),
);
/** Words after a name that say it is a tool or service (`X integration`, `X workspace`). */
const PRODUCT_AFTER = new Set(
  words(
    'integration integrations app apps plugin plugins api apis sdk workspace workspaces ' +
      'channel channels bot bots extension extensions account accounts server servers database ' +
      'databases cluster clusters instance instances dashboard dashboards connector connectors ' +
      'version release subscription plan',
  ),
);

/** Tags that make a capitalised sentence-initial word an ordinary word (`Open the page`, `Does it…`). */
const ORDINARY_TAGS = [
  'Verb',
  'Adverb',
  'Determiner',
  'Pronoun',
  'Preposition',
  'Conjunction',
  'QuestionWord',
  'Expression',
  'Adjective',
  'Modal',
  'Copula',
  'Auxiliary',
  'Negative',
];
/** Closed-class tags: a word carrying one is never a name, known to the lexicon or not. */
const FUNCTION_TAGS = ['Determiner', 'Pronoun', 'Preposition', 'Conjunction', 'QuestionWord', 'Expression'];
/** Tags that keep a word out of a proper-noun run anywhere (dates and numbers have their own types). */
const NEVER_IN_RUN_TAGS = ['Pronoun', 'Date', 'Expression', 'Value'];

const RELATIVE_DAYS: Record<string, number> = { yesterday: -1, today: 0, tonight: 0, tomorrow: 1 };
const RELATIVE_DAY = /\b(yesterday|today|tonight|tomorrow)\b/i;
const RELATIVE_WORDS = /\b(last|next|this|ago|recently|now|earlier|later|soon)\b/i;

/** Most specific first: on a case-insensitive name clash the more specific type wins. */
const TYPE_RANK: Record<EntityType, number> = {
  EMAIL: 0,
  URL: 0,
  PHONE: 0,
  MONEY: 0,
  DATE: 1,
  PERSON: 2,
  ORGANIZATION: 2,
  PLACE: 2,
  PRODUCT: 3,
  TERM: 4,
};

interface Candidate {
  name: string;
  type: EntityType;
  start: number;
  end: number;
  /** Lower wins an overlap: typed matches before compromise's names before proper-noun runs. */
  priority: number;
}

/** `Slack`, `GitHub`, `iPhone`: starts with a capital, or is camel-cased. */
function isCapitalised(word: string): boolean {
  return /^\p{Lu}/u.test(word) || /^\p{Ll}+\p{Lu}/u.test(word);
}

function hasAny(term: Term, tags: readonly string[]): boolean {
  return tags.some((tag) => term.tags.has(tag));
}

/** Whether `terms[index]` opens a sentence or clause (after `:`, a quote or a bracket). */
function isInitial(terms: readonly Term[], index: number): boolean {
  const term = terms[index];
  const previous = terms[index - 1];
  if (!term || !previous) return true;
  if (previous.sentence !== term.sentence) return true;
  return /[.!?:;"“([]|\s[-–—]\s/.test(previous.post) || /["“‘'([]/.test(term.pre);
}

/** The words of the analysed sentences written capitalised in mid-sentence, lower-cased. */
export function properWordsOf(sentences: readonly AnalysedSentence[]): Set<string> {
  const words = new Set<string>();
  for (const sentence of sentences) {
    const terms = sentence.compromise.terms;
    terms.forEach((term, index) => {
      if (!isInitial(terms, index) && isCapitalised(term.text) && !hasAny(term, NEVER_IN_RUN_TAGS)) {
        words.add(term.text.toLowerCase());
      }
    });
  }
  return words;
}

/** True when most words of a short sentence are capitalised: a title, where capitals say nothing. */
function isTitleCase(terms: readonly Term[]): boolean {
  const words = terms.filter((term) => /\p{L}/u.test(term.text));
  if (words.length < 2 || words.length > 12) return false;
  const significant = words.filter((term) => term.text.length > 3 || isCapitalised(term.text));
  const capitalised = significant.filter((term) => isCapitalised(term.text)).length;
  return capitalised >= 2 && capitalised / Math.max(1, significant.length) >= 0.7;
}

/**
 * The entities of one sentence, in text order: emails, URLs, phone numbers, money and dates
 * (wink-nlp, compromise); people, places and organisations (compromise); and runs of
 * capitalised words for product names and terms (`Product X`, `Microsoft Teams`, `Postgres`).
 * A capitalised word that only opens the sentence is not an entity unless it is a known name,
 * a word wink's lexicon does not know, or part of a longer capitalised run.
 */
export function recognizeEntities(sentence: AnalysedSentence, context: RecognitionContext): EntityMention[] {
  const body = sentence.body;
  const candidates: Candidate[] = [];

  for (const entity of sentence.wink.entities) {
    const trimmed = trimEntity(body, entity.start, entity.end);
    if (!trimmed) continue;
    switch (entity.type) {
      case 'EMAIL':
        candidates.push({
          name: trimmed.text,
          type: 'EMAIL',
          start: trimmed.start,
          end: trimmed.end,
          priority: 0,
        });
        break;
      case 'URL':
        candidates.push({
          name: trimmed.text,
          type: 'URL',
          start: trimmed.start,
          end: trimmed.end,
          priority: 0,
        });
        break;
      case 'MONEY':
        candidates.push({
          name: trimmed.text,
          type: 'MONEY',
          start: trimmed.start,
          end: trimmed.end,
          priority: 0,
        });
        break;
      case 'DATE': {
        const name = dateName(trimmed.text, context.occurredAt);
        if (name)
          candidates.push({ name, type: 'DATE', start: trimmed.start, end: trimmed.end, priority: 1 });
        break;
      }
      default:
        break;
    }
  }

  let named = sentence.compromise.entities.filter(
    (entity) => entity.type !== 'PHONE' || entity.text.replace(/\D/g, '').length >= 7,
  );

  const terms = sentence.compromise.terms;
  const runs: Candidate[] = [];
  for (const run of properNounRuns(terms, sentence.kind === 'heading', context, named)) {
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const start = first.start;
    const end = last.end;
    const inside = named.filter((entity) => entity.start >= start && entity.end <= end);
    const same = inside.find((entity) => entity.start === start && entity.end === end);
    if (same) {
      // A well-known product that compromise took for a name (`Jenkins`, `Notion`), or a name
      // with a model letter or version (`Product X`, `Windows 11`), is a product.
      const lower = body.slice(start, end).toLowerCase();
      const versioned =
        run.length > 1 && run.slice(1).some((term) => /^(\p{Lu}|v?\d+(\.\d+)*)$/u.test(term.text));
      const term = TECH_TERMS.has(lower) || ACRONYM_TERMS.has(lower);
      if (same.type === 'PHONE' || same.type === 'PLACE' || !(PRODUCTS.has(lower) || versioned || term)) {
        continue;
      }
      named = named.filter((entity) => entity !== same);
      runs.push({ name: body.slice(start, end), type: term ? 'TERM' : 'PRODUCT', start, end, priority: 3 });
      continue;
    }
    // Runs inside a longer name (`Paris` in `Paris, France`) belong to that name.
    if (named.some((entity) => entity.start <= start && entity.end >= end)) continue;
    const words = run.map((term) => term.text);
    let type: EntityType;
    const head = inside.find((entity) => entity.start === start);
    if (head?.type === 'ORGANIZATION') {
      type = ORG_SUFFIXES.has(words[words.length - 1]!.toLowerCase().replace(/\.$/, ''))
        ? 'ORGANIZATION'
        : 'PRODUCT';
    } else if (head && head.type !== 'PHONE') {
      type = head.type;
    } else {
      type = classifyRun(words, terms, terms.indexOf(first), terms.indexOf(last));
    }
    // The run replaces the shorter names it contains (`Microsoft` inside `Microsoft Teams`).
    named = named.filter((entity) => !inside.includes(entity));
    runs.push({ name: body.slice(start, end), type, start, end, priority: 3 });
  }
  for (const entity of named) {
    candidates.push({
      name: entity.text,
      type: entity.type,
      start: entity.start,
      end: entity.end,
      priority: entity.type === 'PHONE' ? 0 : 2,
    });
  }
  candidates.push(...runs);

  // Greedy by priority, then position: overlapping lower-priority candidates are dropped.
  candidates.sort((a, b) => a.priority - b.priority || a.start - b.start || b.end - a.end);
  const accepted: Candidate[] = [];
  for (const candidate of candidates) {
    if (accepted.some((other) => candidate.start < other.end && other.start < candidate.end)) continue;
    accepted.push(candidate);
  }
  accepted.sort((a, b) => a.start - b.start);
  return mergeEntities([accepted.map(({ name, type }) => ({ name, type }))]);
}

/** Consecutive capitalised terms with nothing but spaces between them (`of` may join two: `Bank of America`). */
function properNounRuns(
  terms: readonly Term[],
  heading: boolean,
  context: RecognitionContext,
  named: ReadonlyArray<{ start: number; end: number }>,
): Term[][] {
  const titleCase = heading || isTitleCase(terms);
  const eligible = (term: Term): boolean =>
    isCapitalised(term.text) && !/^I(['’]\p{L}+)?$/u.test(term.text) && !hasAny(term, NEVER_IN_RUN_TAGS);
  const joined = (a: Term, b: Term): boolean =>
    /^\s+$/.test(a.post) && b.pre === '' && a.sentence === b.sentence;

  const raw: Term[][] = [];
  let current: Term[] = [];
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i]!;
    const previous = current[current.length - 1];
    if (eligible(term)) {
      if (previous && previous === terms[i - 1] && joined(previous, term) && !isInitial(terms, i))
        current.push(term);
      else {
        if (current.length > 0) raw.push(current);
        current = [term];
      }
      continue;
    }
    const next = terms[i + 1];
    if (
      term.text === 'of' &&
      previous === terms[i - 1] &&
      previous &&
      next &&
      eligible(next) &&
      joined(previous, term) &&
      joined(term, next)
    ) {
      current.push(term);
      continue;
    }
    if (current.length > 0) raw.push(current);
    current = [];
  }
  if (current.length > 0) raw.push(current);

  const runs: Term[][] = [];
  for (let run of raw) {
    if (run[run.length - 1]?.text === 'of') run = run.slice(0, -1);
    const first = run[0];
    if (!first) continue;
    if (isInitial(terms, terms.indexOf(first)) && !keepsInitial(first, run.length, context, named))
      run = run.slice(1);
    if (run.length === 0) continue;
    if (titleCase) {
      // In a title every word is capitalised: keep a run only when all its words are names anyway
      // (known products or words written capitalised mid-sentence elsewhere), or a model letter.
      const known = (term: Term): boolean => {
        const lower = term.text.toLowerCase();
        return PRODUCTS.has(lower) || TECH_TERMS.has(lower) || context.knownProper.has(lower);
      };
      if (known(run[0]!) && run.slice(1).every((term) => known(term) || /^\p{Lu}$/u.test(term.text))) {
        runs.push(run);
      }
      continue;
    }
    runs.push(run);
  }
  return runs;
}

/** Whether a capitalised word that opens a sentence is a name rather than an ordinary word. */
function keepsInitial(
  term: Term,
  runLength: number,
  context: RecognitionContext,
  named: ReadonlyArray<{ start: number; end: number }>,
): boolean {
  if (named.some((entity) => entity.start <= term.start && entity.end >= term.end)) return true;
  const lower = term.text.toLowerCase();
  // compromise's tags for a word it does not know are guesses (`Memsy` as a verb): trust the
  // lexicon unless the word is plainly a function word.
  if (!isKnownWord(lower) && !hasAny(term, FUNCTION_TAGS)) return true;
  if (hasAny(term, ORDINARY_TAGS)) return false;
  if (PRODUCTS.has(lower) || TECH_TERMS.has(lower) || context.knownProper.has(lower)) return true;
  if (runLength >= 2) return true;
  return !isKnownWord(lower) || /^\p{Ll}+\p{Lu}/u.test(term.text) || /^\p{Lu}{2,}$/u.test(term.text);
}

/** Whether wink's lexicon knows the word or its stem (`backups` → `backup`, `integrations` → `integration`). */
function isKnownWord(lower: string): boolean {
  if (!isOutOfVocabulary(lower)) return true;
  const stems = [
    lower.replace(/ies$/, 'y'),
    lower.replace(/es$/, ''),
    lower.replace(/s$/, ''),
    lower.replace(/ed$/, ''),
    lower.replace(/ed$/, 'e'),
    lower.replace(/ing$/, ''),
    lower.replace(/ing$/, 'e'),
  ];
  return stems.some((stem) => stem !== lower && stem.length > 2 && !isOutOfVocabulary(stem));
}

/** PRODUCT or TERM (or ORGANIZATION for `Acme Corp`) for a capitalised run no other engine named. */
function classifyRun(
  words: readonly string[],
  terms: readonly Term[],
  firstIndex: number,
  lastIndex: number,
): EntityType {
  const lower = words.join(' ').toLowerCase();
  if (PRODUCTS.has(lower)) return 'PRODUCT';
  if (TECH_TERMS.has(lower) || ACRONYM_TERMS.has(lower)) return 'TERM';
  if (words.length > 1 && ORG_SUFFIXES.has(words[words.length - 1]!.toLowerCase().replace(/\.$/, '')))
    return 'ORGANIZATION';
  // `Product X`, `Windows 11`, `GitHub`, `iPhone`: a letter or version, or inner capitals
  // (`activeDeadlineSeconds`, an identifier, stays a TERM).
  if (words.length > 1 && words.slice(1).some((word) => /^(\p{Lu}|v?\d+(\.\d+)*)$/u.test(word)))
    return 'PRODUCT';
  if (words.some((word) => /^(?:\p{Lu}\p{Ll}+\p{Lu}|\p{Ll}\p{Lu})/u.test(word))) return 'PRODUCT';
  if (words.some((word) => PRODUCTS.has(word.toLowerCase()))) return 'PRODUCT';
  const before = terms[firstIndex - 1]?.text.toLowerCase();
  const after = terms[lastIndex + 1]?.text.toLowerCase();
  if ((before && PRODUCT_BEFORE.has(before)) || (after && PRODUCT_AFTER.has(after))) return 'PRODUCT';
  return 'TERM';
}

/** The name of a DATE entity: as written, or the ISO day of a relative one; null when it cannot be resolved. */
function dateName(value: string, occurredAt: Date | undefined): string | null {
  const relative = RELATIVE_DAY.exec(value);
  if (relative) {
    if (!occurredAt) return null;
    return isoDay(occurredAt, RELATIVE_DAYS[relative[1]!.toLowerCase()] ?? 0);
  }
  if (RELATIVE_WORDS.test(value)) return null;
  return value;
}

/** `YYYY-MM-DD` of `date` shifted by `days`, in UTC. */
export function isoDay(date: Date, days = 0): string {
  return new Date(date.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Concatenates entity lists, de-duplicating names case-insensitively: the first spelling is
 * kept, and the more specific type wins (a name seen as a TERM and as a PRODUCT is a PRODUCT).
 */
export function mergeEntities(lists: ReadonlyArray<readonly EntityMention[]>): EntityMention[] {
  const byName = new Map<string, EntityMention>();
  for (const list of lists) {
    for (const entity of list) {
      const key = entity.name.toLowerCase();
      const existing = byName.get(key);
      if (!existing) byName.set(key, { name: entity.name, type: entity.type });
      else if (TYPE_RANK[entity.type] < TYPE_RANK[existing.type]) existing.type = entity.type;
    }
  }
  return [...byName.values()];
}

/** Inserts the ISO day after `yesterday`/`today`/`tomorrow` so the memory still means something later. */
export function resolveRelativeDays(text: string, occurredAt: Date | undefined): string {
  if (!occurredAt) return text;
  return text.replace(
    /\b(yesterday|today|tonight|tomorrow)\b(?!\s*\(\d{4}-\d{2}-\d{2}\))/gi,
    (word: string) => {
      const offset = RELATIVE_DAYS[word.toLowerCase()] ?? 0;
      return `${word} (${isoDay(occurredAt, offset)})`;
    },
  );
}
