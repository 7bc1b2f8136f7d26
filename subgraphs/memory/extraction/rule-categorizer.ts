import { analyseSentence, type AnalysedSentence } from './entity-recognizer';
import { splitSentences } from './sentence-splitter';
import type { Categorizer, ExtractionInput, MemoryCategory } from './types';

/** A list of words written as one space-separated string. */
function words(list: string): string[] {
  return list.split(/\s+/).filter(Boolean);
}

type Source = ExtractionInput['source'];

/** `I prefer`, `we'd rather`, `my favourite`, `please always`, `I hate`, `doesn't like`, ... */
const PREFERENCE = [
  /\b(?:i|we)\s+(?:really\s+|much\s+|usually\s+|always\s+|generally\s+|strongly\s+|still\s+|also\s+|kind of\s+)?(?:prefer|like|love|enjoy|hate|dislike|detest|loathe|favou?r)\b/i,
  /\b(?:i|we)(?:['’]d|\s+would)\s+(?:much\s+)?rather\b/i,
  /\b(?:i|we)\s+(?:can['’]?t|cannot)\s+stand\b/i,
  /\bmy\s+(?:favou?rite|preferred|preference|go-to)\b/i,
  /\bour\s+(?:favou?rite|preferred|preference)\b/i,
  /\bplease\s+(?:always|never|don['’]?t|do not|avoid)\b/i,
  /\b(?:don['’]?t|do not|doesn['’]?t|does not|never)\s+(?:really\s+)?(?:like|enjoy|want)\b/i,
  /\b(?:prefers|likes|loves|hates|dislikes)\b/i,
  /\b(?:is|are)\s+(?:my|our)\s+(?:favou?rite|preferred)\b/i,
];

/** Explicit procedure cues: `how to`, `to do X, first`, `step 2`, `follow these steps`. */
const PROCEDURE_CUES = [
  /\bhow to\b/i,
  /\bto\s+[a-z]+[^.?!]{0,80},\s*(?:first|start by|begin by|you (?:need|have|must|should))\b/i,
  /\bstep\s*\d+\b/i,
  /\b(?:follow|following|these|the)\s+steps\b/i,
  /\bsteps?\s*:/i,
  /\binstructions?\s*:/i,
];

/** Words that may precede an imperative verb without changing the mood. */
const LEAD_INS = new Set(
  words(
    'please first firstly then next finally lastly now also and just simply afterwards after ' +
      'that always kindly',
  ),
);

/** Base-form verbs that open instructions; compromise's tags are the main test, this backs them up. */
const IMPERATIVE_VERBS = new Set(
  words(
    'open click go run install set add remove create delete select choose enter type navigate ' +
      'press restart log sign configure update check make use copy paste save upload download ' +
      'send contact wait ensure verify enable disable start stop submit fill follow review ' +
      'confirm connect visit turn tap find edit deploy build push pull merge clone execute ' +
      'apply export import generate provide include keep avoid try reset change pick attach ' +
      'scroll expand close quit exit rerun reboot refresh reload login register book schedule ' +
      'cancel request fill print sign approve assign mark move rename drag drop insert specify ' +
      'define write read test commit tag label grant revoke rotate restore back scale migrate ' +
      'upgrade downgrade',
  ),
);

const QUESTION_OPENERS =
  /^(?:who|what|when|where|why|which|how|whose|whom|is|are|am|was|were|do|does|did|can|could|will|would|should|shall|may|might|have|has|had|isn['’]t|aren['’]t|doesn['’]t|don['’]t|didn['’]t|can['’]t|won['’]t|wouldn['’]t|shouldn['’]t)\b/i;

/** Events in time: `yesterday`, `last week`, `this morning`, `two days ago`, `earlier today`. */
const TIME_CUES =
  /\b(?:yesterday|today|tonight|this (?:morning|afternoon|evening|week|month|sprint)|last (?:night|week|month|year|sprint|time|quarter)|earlier|just now|ago|recently|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b/i;

/** `I deployed`, `we shipped`, `we've released`: something the speaker did. */
const FIRST_PERSON_PAST =
  /\b(?:i|we|our team|my team)(?:['’]ve|['’]d|\s+(?:just|finally|already|recently|have|had|also))?\s+([a-z]+)\b/gi;
const IRREGULAR_PAST = new Set(
  words(
    'went had did made got sent wrote built ran met saw spoke told found took gave began ' +
      'broke lost bought sold paid hit left came chose forgot heard kept led said spent thought ' +
      'won shipped was were tried',
  ),
);
/** Words ending in -ed that are not past tenses. */
const NOT_PAST = new Set(
  words('need feed speed seed proceed exceed succeed breed bleed embed red bed shed indeed'),
);

/** Declarative statements: `is`, `has`, `supports`, `allows`, `costs`, ... */
const FACT_VERBS =
  /\b(?:is|are|am|was|were|has|have|had|supports?|allows?|includes?|requires?|provides?|offers?|costs?|contains?|uses?|runs?|means?|lives?|works?|belongs?|owns?|guarantees?|covers?|expires?|lasts?|takes?|negotiated|agreed|integrates?|handles?|stores?|limits?|applies|permits?|caps?)\b/i;

/** `Remember that …`, `Note: …`, `FYI, …`: a frame around what is said, not an instruction. */
const LEAD_IN_FRAME =
  /^(?:please\s+)?(?:remember|note|keep in mind|bear in mind|fyi|btw|by the way|just so you know|for the record|heads up|reminder|update)\b(?:\s+that)?\s*[:,-]?\s*/i;

/** Length of the framing lead-in of a sentence (0 when there is none). */
export function leadInLength(body: string): number {
  const match = LEAD_IN_FRAME.exec(body);
  return match && match[0].length < body.length ? match[0].length : 0;
}

/** Whether a sentence body asks something (`Does Product X work with Slack?`). */
export function isQuestion(body: string): boolean {
  const text = body.trim();
  if (/\?["'”’)]*$/.test(text)) return true;
  return QUESTION_OPENERS.test(text) && !/^how to\b/i.test(text) && !/[.!:;]$/.test(text);
}

/** Whether a sentence is an instruction (`Open the settings page.`, `2. Click Billing.`). */
export function isImperative(sentence: AnalysedSentence): boolean {
  const skip = leadInLength(sentence.body);
  const body = sentence.body.slice(skip);
  if (isQuestion(body)) return false;
  if (/^(?:please\s+)?(?:don['’]?t|do not|never)\s+\p{L}/iu.test(body)) return true;
  const terms = sentence.compromise.terms;
  let index = 0;
  while (index < terms.length && terms[index]!.start < skip) index += 1;
  while (index < terms.length) {
    const word = terms[index]!.text.toLowerCase();
    if (
      LEAD_INS.has(word) ||
      /^\d+[.):]?$/.test(word) ||
      (word === 'step' && /^\d/.test(terms[index + 1]?.text ?? ''))
    ) {
      index += 1;
      continue;
    }
    break;
  }
  const first = terms[index];
  if (!first) return false;
  const word = first.text.toLowerCase();
  if (first.tags.has('Imperative')) return true;
  if (
    first.tags.has('QuestionWord') ||
    first.tags.has('Pronoun') ||
    first.tags.has('Modal') ||
    first.tags.has('Copula')
  )
    return false;
  if (
    first.tags.has('PastTense') ||
    first.tags.has('Gerund') ||
    first.tags.has('Person') ||
    first.tags.has('Organization')
  )
    return false;
  // `Click Billing`: compromise says Infinitive; the verb list catches what it reads as a noun (`Open`).
  const next = terms[index + 1];
  const followedBySubjectVerb = next !== undefined && next.tags.has('Verb') && !next.tags.has('Infinitive');
  if (followedBySubjectVerb) return false;
  return (first.tags.has('Verb') && first.tags.has('Infinitive')) || IMPERATIVE_VERBS.has(word);
}

/** Whether a sentence tells of something the speaker did, or places itself in time. */
export function isEpisodeInTime(body: string): boolean {
  if (TIME_CUES.test(body)) return true;
  for (const match of body.matchAll(FIRST_PERSON_PAST)) {
    const verb = (match[1] ?? '').toLowerCase();
    if (IRREGULAR_PAST.has(verb)) return true;
    if (verb.length > 4 && verb.endsWith('ed') && !NOT_PAST.has(verb)) return true;
  }
  return false;
}

export function isPreference(body: string): boolean {
  return PREFERENCE.some((pattern) => pattern.test(body));
}

/**
 * {@link Categorizer} by rules, deterministic and offline (the rule extractor uses it for every
 * memory it makes). In order:
 *
 * - a document (or document chunk) is a DOCUMENT unless it is clearly a PROCEDURE: most of its
 *   sentences are instructions, or it is numbered steps, or a `how to` with instructions;
 * - a TOOL_RESULT event is an EPISODE (something that happened in the session);
 * - PREFERENCE: `I prefer`, `I like`, `I'd rather`, `my favourite`, `please always`, `I hate`,
 *   `don't like`, ...;
 * - PROCEDURE: two or more instructions, numbered steps, `to do X, first…`, `how to`, `step 2`;
 * - EPISODE: a question, an event in time (`yesterday I…`, `we shipped`, `last week`), or a
 *   single instruction (a request made in the session);
 * - FACT: a declarative statement with a number, a name or a verb such as is/are/has/supports/allows;
 * - anything else said in a conversation is an EPISODE.
 */
export class RuleCategorizer implements Categorizer {
  categorize(text: string, source: Source): MemoryCategory {
    const sentences = splitSentences(text).map(analyseSentence);
    return this.categorizeSentences(sentences, source);
  }

  /** The same rules over sentences the caller already analysed (the extractor's path). */
  categorizeSentences(sentences: readonly AnalysedSentence[], source: Source): MemoryCategory {
    const content = sentences.filter((sentence) => sentence.kind !== 'heading');
    if (source.type === 'document') return isClearlyProcedure(sentences, content) ? 'PROCEDURE' : 'DOCUMENT';
    if (source.kind === 'TOOL_RESULT') return 'EPISODE';
    const bodies = sentences.map((sentence) => sentence.body.slice(leadInLength(sentence.body)));
    if (bodies.some(isPreference)) return 'PREFERENCE';
    if (isProcedure(sentences, content)) return 'PROCEDURE';
    if (bodies.some(isQuestion)) return 'EPISODE';
    if (bodies.some(isEpisodeInTime)) return 'EPISODE';
    // A single instruction in a conversation is a request made in the session, not a fact.
    if (content.some(isImperative)) return 'EPISODE';
    if (bodies.some(isFactual)) return 'FACT';
    return 'EPISODE';
  }
}

function isFactual(body: string): boolean {
  if (/\d/.test(body) || FACT_VERBS.test(body)) return true;
  // A capitalised word after the first one: a name.
  return /\s\p{Lu}/u.test(body.replace(/\bI\b/g, 'i'));
}

interface ProcedureSignals {
  imperatives: number;
  numbered: number;
  cue: boolean;
}

function signals(
  sentences: readonly AnalysedSentence[],
  content: readonly AnalysedSentence[],
): ProcedureSignals {
  return {
    imperatives: content.filter(isImperative).length,
    numbered: content.filter(
      (sentence) => sentence.kind === 'bullet' && /^\(?(?:\d+|[a-z])[.)]/.test(sentence.text),
    ).length,
    cue: sentences.some(
      (sentence) => !isQuestion(sentence.body) && PROCEDURE_CUES.some((cue) => cue.test(sentence.body)),
    ),
  };
}

/** An instruction after `:`, `;` or `, then` inside a sentence (`How to reset it: open Settings, then…`). */
const CLAUSE_OPENER = /(?:[:;]|,\s*(?:and\s+)?(?:then|next|finally|first)?)\s+(?:please\s+)?(\p{L}+)/giu;

function hasImperativeClause(body: string): boolean {
  for (const match of body.matchAll(CLAUSE_OPENER)) {
    if (IMPERATIVE_VERBS.has((match[1] ?? '').toLowerCase())) return true;
  }
  return false;
}

/** In conversation: two instructions, or numbered steps, or an explicit cue with an instruction. */
function isProcedure(sentences: readonly AnalysedSentence[], content: readonly AnalysedSentence[]): boolean {
  const { imperatives, numbered, cue } = signals(sentences, content);
  if (imperatives >= 2) return true;
  if (numbered >= 2 && imperatives >= 1) return true;
  if (!cue) return false;
  const bodies = sentences.map((sentence) => sentence.body);
  return (
    imperatives >= 1 ||
    numbered >= 2 ||
    bodies.some(hasImperativeClause) ||
    /\bto\s+[a-z]+[^.?!]{0,80},\s*(?:first|start by|begin by)\b/i.test(bodies.join(' '))
  );
}

/** In a document, where instructions may be quoted among facts: most of it must be instructions. */
function isClearlyProcedure(
  sentences: readonly AnalysedSentence[],
  content: readonly AnalysedSentence[],
): boolean {
  const { imperatives, numbered, cue } = signals(sentences, content);
  const total = Math.max(1, content.length);
  if (imperatives >= 2 && imperatives / total >= 0.5) return true;
  if (numbered >= 3 && imperatives >= 2) return true;
  return cue && imperatives >= 2 && imperatives / total >= 0.3;
}
