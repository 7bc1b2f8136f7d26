/**
 * The retrieval eval's data: a seeded, multi-session conversation set in the spirit of LoCoMo
 * and LongMemEval. One org with roles and teams, actors who talk to an assistant over several
 * sessions (facts about themselves mixed with chit-chat and distractors that share vocabulary),
 * org documents (policies, FAQs, product docs; some at ROLE or TEAM scope), and questions asked
 * by actors, each with the ids of the events or documents that answer it (evidence).
 *
 * Pure and deterministic: the same options give the same set (no clock, no Math.random).
 */

export type QuestionCategory =
  /** Reuses the fact's own keywords. */
  | 'keyword'
  /** Different words for the same thing (synonyms, other phrasing). */
  | 'paraphrase'
  /** Names an entity of the fact (a product, tool, person, place, pet). */
  | 'entity'
  /** The fact changed in a later session; only the latest statement answers it. */
  | 'update'
  /** The answer is spread over two sessions. */
  | 'multi-session'
  /** An org document, with its keywords. */
  | 'doc-keyword'
  /** An org document, paraphrased. */
  | 'doc-paraphrase'
  /** An org document, by the entity it describes (Atlas, Ledger, Navan…). */
  | 'doc-entity'
  /** A ROLE or TEAM document, asked by a member. */
  | 'scoped-doc';

export const CATEGORIES: readonly QuestionCategory[] = [
  'keyword',
  'paraphrase',
  'entity',
  'update',
  'multi-session',
  'doc-keyword',
  'doc-paraphrase',
  'doc-entity',
  'scoped-doc',
];

export interface EvalOptions {
  seed: number;
  /** Actors (each with its own sessions). @default 60 */
  actors?: number;
  /** Sessions per actor (at least 2: updates and multi-session facts span sessions). @default 4 */
  sessions?: number;
  /** Questions per actor about its own conversations. @default 3 */
  questionsPerActor?: number;
  /** Questions per actor about documents its scope chain sees. @default 1 */
  documentQuestionsPerActor?: number;
}

export interface EvalRole {
  key: string;
  name: string;
  focus: string;
}

export interface EvalActor {
  actorId: string;
  displayName: string;
  roleKey: string;
  teamKey: string;
}

export interface EvalEvent {
  eventId: string;
  actorId: string;
  sessionId: string;
  /** 0-based: sessions are ingested in order (updates must come after what they replace). */
  session: number;
  kind: 'USER_MESSAGE' | 'ASSISTANT_MESSAGE';
  content: string;
  occurredAt: Date;
}

export interface EvalDocument {
  documentId: string;
  title: string;
  content: string;
  scope: { level: 'ORG' } | { level: 'ROLE'; roleKey: string } | { level: 'TEAM'; teamKey: string };
}

export interface EvalQuestion {
  questionId: string;
  actorId: string;
  query: string;
  category: QuestionCategory;
  /** Event ids and document ids that answer the question. */
  evidence: string[];
}

export interface EvalDataset {
  seed: number;
  orgId: string;
  roles: EvalRole[];
  teams: EvalRole[];
  actors: EvalActor[];
  events: EvalEvent[];
  documents: EvalDocument[];
  questions: EvalQuestion[];
}

/** mulberry32: a small, fast, well-distributed 32-bit PRNG. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const shuffle = <T>(list: readonly T[]): T[] => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };
  return { next, int, pick, shuffle, sample: (list, n) => shuffle(list).slice(0, n) };
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** 0..n-1 */
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
  shuffle<T>(list: readonly T[]): T[];
  sample<T>(list: readonly T[], n: number): T[];
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const FIRST_NAMES = [
  'Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elif', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas',
  'Kenji', 'Leila', 'Mateo', 'Nadia', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tomas',
  'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf', 'Zara', 'Amara', 'Basil', 'Carmen', 'Dario',
  'Esme', 'Felix', 'Greta', 'Hugo', 'Ivo', 'Jana', 'Kofi', 'Lina', 'Milo', 'Noor',
  'Olga', 'Pablo', 'Rhea', 'Samir', 'Tara', 'Ugo', 'Vera', 'Wilma', 'Yara', 'Zeno',
  'Aiko', 'Bodhi', 'Cleo', 'Devika', 'Edda', 'Fynn', 'Gia', 'Halvard', 'Isla', 'Joel',
  'Kira', 'Lars', 'Maya', 'Nico', 'Otto', 'Pia', 'Rajesh', 'Sofia', 'Theo', 'Una',
]; // prettier-ignore
const LAST_NAMES = [
  'Novak', 'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Haddad', 'Kowalski', 'Silva', 'Brennan',
  'Varga', 'Iyer', 'Schmidt', 'Costa', 'Nakamura', 'Petrov', 'Alvarez', 'Fischer', 'Osei',
]; // prettier-ignore
const MANAGERS = [
  'Helena Voss',
  'Marcus Adeyemi',
  'Ingrid Solberg',
  'Rafael Ortega',
  'Mei Chen',
  'Tobias Krüger',
];
const CITIES = [
  'Lisbon',
  'Valencia',
  'Rotterdam',
  'Kraków',
  'Porto',
  'Ljubljana',
  'Tallinn',
  'Bologna',
  'Gdańsk',
  'Leeds',
];
const PETS: Record<string, readonly string[]> = {
  dog: ['beagle', 'border collie', 'dachshund', 'greyhound', 'corgi'],
  cat: ['Maine Coon', 'Siamese', 'British Shorthair', 'Bengal'],
  rabbit: ['Holland Lop', 'Rex', 'Lionhead'],
};
const PET_NAMES = [
  'Biscuit',
  'Pepper',
  'Mochi',
  'Juniper',
  'Pickles',
  'Waffles',
  'Nala',
  'Ziggy',
  'Olive',
  'Tofu',
];
const LANGUAGES = ['Rust', 'Go', 'Kotlin', 'Elixir', 'Haskell', 'Zig', 'Clojure', 'OCaml'];
const CODENAMES = ['Falcon', 'Juniper', 'Orion', 'Basalt', 'Meridian', 'Kestrel', 'Tundra', 'Saffron'];
const TOOLS = [
  'Kafka',
  'Snowflake',
  'Terraform',
  'Kubernetes',
  'Airflow',
  'ClickHouse',
  'Salesforce',
  'Zendesk',
];
const DIETS = [
  { statement: 'vegetarian', paraphrase: 'Do I eat meat?' },
  { statement: 'vegan', paraphrase: 'Am I okay with dairy and eggs?' },
  { statement: 'allergic to peanuts', paraphrase: 'Is there any food that could make me sick?' },
  { statement: 'gluten intolerant', paraphrase: 'Can I have pasta and bread?' },
  { statement: 'lactose intolerant', paraphrase: 'Should I avoid cheese and milk?' },
];
const CONFERENCES = ['KubeCon', 'PyCon', 'Web Summit', 'SaaStr', 'NeurIPS', 'RustConf', 'QCon'];
const MONTHS = ['April', 'May', 'June', 'September', 'October', 'November'];
const HOBBIES = [
  { activity: 'go bouldering', paraphrase: 'climbing' },
  { activity: 'bake sourdough', paraphrase: 'bread' },
  { activity: 'play chess', paraphrase: 'board game' },
  { activity: 'go trail running', paraphrase: 'jogging' },
  { activity: 'do pottery', paraphrase: 'ceramics' },
  { activity: 'go birdwatching', paraphrase: 'birds' },
];
const CALL_WINDOWS = [
  { rule: 'before 10am; mornings are my deep-work time', paraphrase: 'Can I take an early meeting?' },
  { rule: 'after 4pm because I pick up my kids from school', paraphrase: 'Am I free late in the afternoon?' },
  { rule: 'on Fridays, which I keep for focused work', paraphrase: 'Can we meet at the end of the week?' },
];
const COURSES = [
  'Spanish',
  'woodworking',
  'photography',
  'Japanese',
  'jazz piano',
  'statistics',
  'first aid',
];
const BOOKS = [
  'Project Hail Mary',
  'The Left Hand of Darkness',
  'Sapiens',
  'Piranesi',
  'The Overstory',
  'Dune',
];
const BUILDINGS = ['Harbour', 'Cedar', 'Granite'];
const STANDUP_TIMES = ['9:15', '9:30', '10:00', '11:15', '13:30'];

// ---------------------------------------------------------------------------------------------
// Facts an actor states (one or two statements) and the questions each can answer

interface FactStatement {
  text: string;
  /** Sessions: 'early' (first half) or 'late' (a later session than any early one of the same fact). */
  when: 'any' | 'early' | 'late';
}

interface Fact {
  kind: string;
  statements: FactStatement[];
  /** Which statements answer (indexes into `statements`). */
  answeredBy: number[];
  questions: Partial<Record<QuestionCategory, string[]>>;
}

type FactMaker = (r: Rng) => Fact;

const SIMPLE_FACTS: FactMaker[] = [
  (r) => {
    const pet = r.pick(Object.keys(PETS));
    const breed = r.pick(PETS[pet]!);
    const name = r.pick(PET_NAMES);
    return {
      kind: 'pet',
      statements: [
        {
          text: `My ${pet} ${name} is a ${breed}, and honestly the thunderstorms this week terrified ${name}.`,
          when: 'any',
        },
      ],
      answeredBy: [0],
      questions: {
        keyword: [`What breed is my ${pet}?`, `What breed of ${pet} is ${name}?`],
        paraphrase: [
          'What kind of animal do I keep at home?',
          'Tell me about the animal that lives with me.',
        ],
        entity: [`Who is ${name}?`, `What do you know about ${name}?`],
      },
    };
  },
  (r) => {
    const city = r.pick(CITIES);
    return {
      kind: 'city',
      statements: [
        {
          text: `Last spring I relocated to ${city} because my partner got a job at the university there.`,
          when: 'any',
        },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['Why did I relocate last spring?', 'Where did I relocate to?'],
        paraphrase: ['Where do I live these days?', 'Which town did we move to for work?'],
        entity: [`What's my connection to ${city}?`],
      },
    };
  },
  (r) => {
    const lang = r.pick(LANGUAGES);
    return {
      kind: 'language',
      statements: [
        {
          text: `For side projects I always reach for ${lang}, the compiler catches my mistakes early.`,
          when: 'any',
        },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['Which language do I reach for on side projects?'],
        paraphrase: [
          'What do I like to write my hobby code in?',
          'Which programming language is my personal favourite?',
        ],
        entity: [`Do I use ${lang}?`],
      },
    };
  },
  (r) => {
    const code = r.pick(CODENAMES);
    const tool = r.pick(TOOLS);
    return {
      kind: 'project',
      statements: [
        {
          text: `This quarter I'm leading project ${code}, which moves our reporting pipeline onto ${tool}.`,
          when: 'any',
        },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['Which project am I leading this quarter?', `What is project ${code} about?`],
        paraphrase: [
          'What initiative am I in charge of right now?',
          'What am I responsible for delivering these months?',
        ],
        entity: [`What am I doing with ${tool}?`, `What is ${code}?`],
      },
    };
  },
  (r) => {
    const diet = r.pick(DIETS);
    return {
      kind: 'diet',
      statements: [
        {
          text: `Heads up for team dinners: I'm ${diet.statement}, so please choose restaurants with that in mind.`,
          when: 'any',
        },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['What should you keep in mind when choosing restaurants for team dinners?'],
        paraphrase: [diet.paraphrase, 'Do I have any dietary restrictions?'],
      },
    };
  },
  (r) => {
    const city = r.pick(CITIES);
    const conf = r.pick(CONFERENCES);
    const month = r.pick(MONTHS);
    return {
      kind: 'trip',
      statements: [{ text: `I'm flying to ${city} in ${month} to give a talk at ${conf}.`, when: 'any' }],
      answeredBy: [0],
      questions: {
        keyword: [`When am I flying to ${city}?`, 'Where am I giving a talk?'],
        paraphrase: ['Do I have any upcoming business travel?', 'Am I presenting at an event soon?'],
        entity: [`What are my plans for ${conf}?`],
      },
    };
  },
  (r) => {
    const hobby = r.pick(HOBBIES);
    return {
      kind: 'hobby',
      statements: [
        { text: `On weekends I ${hobby.activity} with my neighbours, it keeps me sane.`, when: 'any' },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['What do I do on weekends with my neighbours?'],
        paraphrase: ['How do I unwind on Saturdays?', `Am I into ${hobby.paraphrase}?`],
      },
    };
  },
  (r) => {
    const manager = r.pick(MANAGERS);
    return {
      kind: 'manager',
      statements: [
        { text: `${manager} is my manager now; she runs our weekly sync every Tuesday at 9.`, when: 'any' },
      ],
      answeredBy: [0],
      questions: {
        keyword: ['Who runs our weekly sync?', 'Who is my manager?'],
        paraphrase: ['Who do I report to?', 'Who is my boss?'],
        entity: [`Who is ${manager} to me?`],
      },
    };
  },
  (r) => {
    const window = r.pick(CALL_WINDOWS);
    return {
      kind: 'calls',
      statements: [{ text: `Please never schedule calls for me ${window.rule}.`, when: 'any' }],
      answeredBy: [0],
      questions: {
        keyword: ['When should you not schedule calls for me?'],
        paraphrase: [window.paraphrase, 'What are my meeting availability preferences?'],
      },
    };
  },
];

const UPDATE_FACTS: FactMaker[] = [
  (r) => {
    const building = r.pick(BUILDINGS);
    const [a, b] = r.sample([2, 3, 4, 5, 6, 7], 2);
    return {
      kind: 'desk',
      statements: [
        {
          text: `My desk is on floor ${a} of the ${building} building, right next to the kitchen.`,
          when: 'early',
        },
        { text: `Facilities moved us again, my desk is now on floor ${b} of ${building}.`, when: 'late' },
      ],
      answeredBy: [1],
      questions: {
        update: ['Which floor is my desk on?', 'Where do I sit in the office now?'],
      },
    };
  },
  (r) => {
    const [a, b] = r.sample(STANDUP_TIMES, 2);
    return {
      kind: 'standup',
      statements: [
        { text: `Our team standup is at ${a} every morning.`, when: 'early' },
        { text: `The standup got moved, it's at ${b} from now on.`, when: 'late' },
      ],
      answeredBy: [1],
      questions: {
        update: ['What time is my standup?', 'When does my team meet every day?'],
      },
    };
  },
];

const MULTI_FACTS: FactMaker[] = [
  (r) => {
    const [a, b] = r.sample(COURSES, 2);
    return {
      kind: 'courses',
      statements: [
        { text: `I signed up for a ${a} course at the community college.`, when: 'early' },
        { text: `I also enrolled in a ${b} class on Thursday evenings.`, when: 'late' },
      ],
      answeredBy: [0, 1],
      questions: {
        'multi-session': ['Which courses have I signed up for?', 'What classes am I taking outside work?'],
      },
    };
  },
  (r) => {
    const [a, b] = r.sample(BOOKS, 2);
    return {
      kind: 'books',
      statements: [
        { text: `I just finished reading ${a} and loved the ending.`, when: 'early' },
        { text: `Now I'm halfway through ${b}, a colleague recommended it.`, when: 'late' },
      ],
      answeredBy: [0, 1],
      questions: {
        'multi-session': ['What books have I been reading lately?', 'Which novels have I mentioned to you?'],
      },
    };
  },
];

/** Chit-chat and distractors: the user's side, with the assistant's reply. They share the facts' vocabulary. */
const DISTRACTORS: Array<(r: Rng) => [string, string]> = [
  () => [
    'Did you catch the thunderstorm last night? The power went out twice.',
    'Storms like that often cause short outages; a small UPS keeps the router running.',
  ],
  (r) => [
    `My neighbour's ${r.pick(['dog', 'cat', 'rabbit'])} keeps sneaking into our garden.`,
    'A low fence or some netting along the border usually stops that.',
  ],
  (r) => [
    `I read an article comparing ${r.pick(LANGUAGES)} and ${r.pick(LANGUAGES)} for backend services.`,
    'Both are solid; the choice usually comes down to the team and the ecosystem.',
  ],
  (r) => [
    `Our team might try ${r.pick(TOOLS)} next year, but nothing is decided.`,
    'It makes sense to run a small pilot before committing to it.',
  ],
  (r) => [
    `A friend of mine just moved to ${r.pick(CITIES)} and she loves the food there.`,
    'Moving to a new city is exciting, especially with good food around.',
  ],
  () => [
    'I need to write the summary for the quarterly report by Friday.',
    'Start from the key metrics and three highlights; the rest is detail.',
  ],
  () => [
    "What's a good recipe for a quick weekday dinner?",
    'A vegetable stir-fry with rice takes about twenty minutes.',
  ],
  () => [
    'The coffee machine on our floor is broken again.',
    'Maybe report it to facilities so it gets on their list.',
  ],
  (r) => [
    `Flights to ${r.pick(CITIES)} are crazy expensive this month.`,
    'Prices often drop if you book a few weeks earlier or fly midweek.',
  ],
  (r) => [
    `My sister is thinking about getting a ${r.pick(Object.values(PETS).flat())}.`,
    'Worth checking how much exercise and grooming that breed needs.',
  ],
  () => [
    'How do I reset my VPN password again?',
    'You can reset it from the IT self-service portal under Accounts.',
  ],
  (r) => [
    `Can you remind me what the agenda for the ${r.pick(['Monday', 'Wednesday', 'Thursday'])} meeting was?`,
    "I don't have the agenda, but the meeting invite usually links it.",
  ],
  () => ['I stayed up way too late watching the football match.', 'Hope it was a good game at least!'],
  (r) => [
    `Someone on the ${r.pick(['Platform', 'Billing', 'Growth'])} team asked about reporting dashboards.`,
    'They could start from the existing Atlas dashboards and adapt them.',
  ],
];

const ACKNOWLEDGEMENTS = [
  "Thanks for sharing, I'll remember that.",
  'Noted, I will keep this in mind for later.',
  'Got it! Anything else I should know?',
  "Good to know, I'll take it into account.",
  'Thanks, that helps me plan things better for you.',
];

// ---------------------------------------------------------------------------------------------
// Org documents

interface DocumentFact {
  questions: Partial<Record<QuestionCategory, string[]>>;
}

interface DocumentSpec extends Omit<EvalDocument, 'content'> {
  sentences: string[];
  facts: DocumentFact[];
}

const ROLES: EvalRole[] = [
  { key: 'support', name: 'Support Agent', focus: 'Customer tickets, refunds, escalations' },
  { key: 'backend', name: 'Backend Engineer', focus: 'APIs, databases, reliability' },
  { key: 'sales', name: 'Sales Rep', focus: 'Enterprise deals, discounts, demos' },
  { key: 'pm', name: 'Product Manager', focus: 'Roadmaps, experiments, customer research' },
];
const TEAMS: EvalRole[] = [
  { key: 'platform', name: 'Platform', focus: 'Infrastructure, deploys, on-call' },
  { key: 'billing', name: 'Billing', focus: 'Payments, invoices, the Ledger API' },
  { key: 'growth', name: 'Growth', focus: 'Experiments, onboarding, newsletters' },
];

const DOCUMENTS: DocumentSpec[] = [
  {
    documentId: 'doc_expense_policy',
    title: 'Expense policy',
    scope: { level: 'ORG' },
    sentences: [
      'Travel meals are reimbursed up to 60 euros per day with itemised receipts.',
      'Flights must be booked through Navan at least 14 days before departure.',
      'Hotel stays above 180 euros a night need approval from a director.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['How much are travel meals reimbursed per day?'],
          'doc-paraphrase': ['How much can I spend on food when I am on a work trip?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['How many days before departure must flights be booked?'],
          'doc-paraphrase': ['How early do I need to reserve plane tickets for business travel?'],
          'doc-entity': ['Do I have to use Navan?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_refund_policy',
    title: 'Refund policy',
    scope: { level: 'ORG' },
    sentences: [
      'Customers can request a refund within 30 days of purchase.',
      'Enterprise customers on annual plans receive prorated credits instead of cash refunds.',
      'Refunds are paid back to the original payment method within 5 business days.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['Within how many days can customers request a refund?'],
          'doc-paraphrase': ['How long does a buyer have to get their money back?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_security_policy',
    title: 'Security policy',
    scope: { level: 'ORG' },
    sentences: [
      'API keys must be rotated every 90 days.',
      'Laptops lock automatically after 5 minutes without activity.',
      'Report suspected phishing in the security-alerts channel right away.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['How often must API keys be rotated?'],
          'doc-paraphrase': ['How frequently do we need to replace our access credentials?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['Where do I report suspected phishing?'],
          'doc-paraphrase': ['I got a suspicious email asking for my password, what do I do?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_leave_faq',
    title: 'Vacation and leave FAQ',
    scope: { level: 'ORG' },
    sentences: [
      'Full-time employees get 26 days of paid vacation per year.',
      'Unused vacation days carry over until March 31 of the next year.',
      'Parental leave is 20 weeks at full pay for every parent.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['How many days of paid vacation do employees get?'],
          'doc-paraphrase': ['How much time off am I entitled to each year?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['How long is parental leave?'],
          'doc-paraphrase': ['How much time can I take off when my baby is born?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_atlas',
    title: 'Atlas product guide',
    scope: { level: 'ORG' },
    sentences: [
      'Atlas is our analytics dashboard for customers.',
      'Atlas data refreshes every 15 minutes and keeps 13 months of history.',
      'CSV exports from Atlas are limited to 100,000 rows.',
    ],
    facts: [
      {
        questions: {
          'doc-entity': ['What is Atlas?', 'How often does Atlas refresh?'],
          'doc-paraphrase': ['How fresh is the data in our customer analytics product?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['What is the row limit for CSV exports?'],
          'doc-paraphrase': ['How big can a spreadsheet download from the reporting dashboard be?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_beacon',
    title: 'Beacon product guide',
    scope: { level: 'ORG' },
    sentences: [
      'Beacon is the alerting service; it pages the on-call engineer through PagerDuty.',
      'Beacon deduplicates alerts over a 10-minute window.',
    ],
    facts: [
      {
        questions: {
          'doc-entity': ['What does Beacon do?', 'How does Beacon reach PagerDuty?'],
          'doc-paraphrase': ['Which system wakes up the engineer on duty when something breaks?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_ledger',
    title: 'Ledger API reference',
    scope: { level: 'ORG' },
    sentences: [
      'Ledger is the billing API used by every product.',
      'Ledger allows 600 requests per minute per API key.',
      'Invoices are generated on the first business day of each month.',
    ],
    facts: [
      {
        questions: {
          'doc-entity': ['What is the rate limit of Ledger?'],
          'doc-keyword': ['How many requests per minute does the billing API allow?'],
          'doc-paraphrase': ['How hard can we hit the payments service before it throttles us?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['When are invoices generated?'],
          'doc-paraphrase': ['On which day do customers get their monthly bill?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_remote_work',
    title: 'Remote work FAQ',
    scope: { level: 'ORG' },
    sentences: [
      'Employees may work from abroad for up to 4 weeks a year.',
      'The home office equipment budget is 500 euros every two years.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['How many weeks a year can I work from abroad?'],
          'doc-paraphrase': ['Can I do my job from another country for a while?'],
        },
      },
      {
        questions: {
          'doc-keyword': ['What is the home office equipment budget?'],
          'doc-paraphrase': ['Will the company pay for a desk and monitor at my place?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_onboarding',
    title: 'Onboarding FAQ',
    scope: { level: 'ORG' },
    sentences: [
      'New hires get their laptop on day one from IT in room 2.14.',
      'The buddy program pairs each new hire with a colleague for 6 weeks.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['Where do new hires get their laptop?'],
          'doc-paraphrase': ['Where does someone starting next week pick up their computer?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_incidents',
    title: 'Incident process',
    scope: { level: 'ORG' },
    sentences: [
      'Severity 1 incidents need a status page update within 15 minutes.',
      'Postmortems are due within 5 business days of the incident.',
    ],
    facts: [
      {
        questions: {
          'doc-keyword': ['When are postmortems due?'],
          'doc-paraphrase': ['How long do we have to write up what went wrong after an outage?'],
        },
      },
    ],
  },
  {
    documentId: 'doc_platform_oncall',
    title: 'Platform on-call handbook',
    scope: { level: 'TEAM', teamKey: 'platform' },
    sentences: [
      'The on-call rotation hands over on Mondays at 10:00.',
      'The secondary on-call must acknowledge a page within 15 minutes.',
      'Harbor deploys are frozen on Fridays after 2pm.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': [
            'When does the on-call rotation hand over?',
            'Who takes the pager and when does it switch?',
          ],
        },
      },
      { questions: { 'scoped-doc': ['Can I deploy with Harbor on Friday afternoon?'] } },
    ],
  },
  {
    documentId: 'doc_billing_runbook',
    title: 'Billing team runbook',
    scope: { level: 'TEAM', teamKey: 'billing' },
    sentences: [
      'Failed card payments are retried three times over 7 days.',
      'Chargebacks above 1,000 euros go to the finance lead.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': [
            'How often are failed card payments retried?',
            'What happens when a customer card is declined?',
          ],
        },
      },
      { questions: { 'scoped-doc': ['Who handles large chargebacks?'] } },
    ],
  },
  {
    documentId: 'doc_growth_guide',
    title: 'Growth team guide',
    scope: { level: 'TEAM', teamKey: 'growth' },
    sentences: [
      'Experiments need at least two weeks of traffic before a decision.',
      'The product newsletter goes out every Thursday.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': ['How long must an experiment run before we decide?', 'When can I call an A/B test?'],
        },
      },
      { questions: { 'scoped-doc': ['When does the newsletter go out?'] } },
    ],
  },
  {
    documentId: 'doc_sales_playbook',
    title: 'Sales playbook',
    scope: { level: 'ROLE', roleKey: 'sales' },
    sentences: [
      'Discounts up to 15% can be approved by the sales manager; anything higher needs the CFO.',
      'Demo accounts expire after 30 days.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': ['Who approves a 20% discount?', 'How big a price cut can my manager sign off?'],
        },
      },
      { questions: { 'scoped-doc': ['When do demo accounts expire?'] } },
    ],
  },
  {
    documentId: 'doc_support_macros',
    title: 'Support handbook',
    scope: { level: 'ROLE', roleKey: 'support' },
    sentences: [
      'The first response target for premium tickets is 1 hour.',
      'Escalate to tier 2 after two unsuccessful replies.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': [
            'What is the first response target for premium tickets?',
            'How fast must I answer a paying customer?',
          ],
        },
      },
      { questions: { 'scoped-doc': ['When should I escalate a ticket?'] } },
    ],
  },
  {
    documentId: 'doc_backend_guidelines',
    title: 'Backend engineering guidelines',
    scope: { level: 'ROLE', roleKey: 'backend' },
    sentences: [
      'Database migrations must stay backward compatible for one release.',
      'Changes to Ledger need two approvals in code review.',
    ],
    facts: [
      {
        questions: {
          'scoped-doc': [
            'How many approvals do Ledger changes need?',
            'Who has to review my billing API pull request?',
          ],
        },
      },
      { questions: { 'scoped-doc': ['Do schema changes have to be backward compatible?'] } },
    ],
  },
];

// ---------------------------------------------------------------------------------------------

const BASE_TIME = Date.UTC(2026, 2, 2, 9, 0, 0);
const DAY = 86_400_000;

/** Generates the set. Deterministic in `options`. */
export function generateDataset(options: EvalOptions): EvalDataset {
  const actorCount = options.actors ?? 60;
  const sessions = Math.max(2, options.sessions ?? 4);
  const perActor = options.questionsPerActor ?? 3;
  const docPerActor = options.documentQuestionsPerActor ?? 1;
  const r = createRng(options.seed);
  const orgId = 'eval';

  const names = r.shuffle(FIRST_NAMES.flatMap((first) => LAST_NAMES.map((last) => `${first} ${last}`)));
  const actors: EvalActor[] = Array.from({ length: actorCount }, (_, i) => ({
    actorId: `actor_${String(i).padStart(3, '0')}`,
    displayName: names[i % names.length]!,
    roleKey: r.pick(ROLES).key,
    teamKey: r.pick(TEAMS).key,
  }));

  const documents: EvalDocument[] = DOCUMENTS.map((doc) => ({
    documentId: doc.documentId,
    title: doc.title,
    scope: doc.scope,
    content: `# ${doc.title}\n\n${doc.sentences.join(' ')}`,
  }));

  const events: EvalEvent[] = [];
  const questions: EvalQuestion[] = [];
  for (const [a, actor] of actors.entries()) {
    const facts = [
      ...r.sample(SIMPLE_FACTS, 6).map((make) => make(r)),
      r.pick(UPDATE_FACTS)(r),
      r.pick(MULTI_FACTS)(r),
    ];
    // Place statements in sessions: 'early' ones in the first half, 'late' ones after them.
    const turns: Array<Array<{ user: string; assistant: string; fact?: { fact: Fact; index: number } }>> =
      Array.from({ length: sessions }, () => []);
    const half = Math.ceil(sessions / 2);
    for (const fact of facts) {
      fact.statements.forEach((statement, index) => {
        const session =
          statement.when === 'early'
            ? r.int(half)
            : statement.when === 'late'
              ? half + r.int(sessions - half)
              : r.int(sessions);
        turns[session]!.push({
          user: statement.text,
          assistant: r.pick(ACKNOWLEDGEMENTS),
          fact: { fact, index },
        });
      });
    }
    for (const session of turns) {
      const distractors = 2 + r.int(2);
      for (let i = 0; i < distractors; i++) {
        const [user, assistant] = r.pick(DISTRACTORS)(r);
        session.push({ user, assistant });
      }
    }
    const eventIdsOf = new Map<Fact, string[]>();
    turns.forEach((session, s) => {
      const sessionId = `${actor.actorId}_s${s + 1}`;
      const start = BASE_TIME + s * 7 * DAY + a * 600_000;
      r.shuffle(session).forEach((turn, t) => {
        const userId = `${sessionId}_t${t + 1}_u`;
        events.push({
          eventId: userId,
          actorId: actor.actorId,
          sessionId,
          session: s,
          kind: 'USER_MESSAGE',
          content: turn.user,
          occurredAt: new Date(start + t * 120_000),
        });
        events.push({
          eventId: `${sessionId}_t${t + 1}_a`,
          actorId: actor.actorId,
          sessionId,
          session: s,
          kind: 'ASSISTANT_MESSAGE',
          content: turn.assistant,
          occurredAt: new Date(start + t * 120_000 + 30_000),
        });
        if (turn.fact) {
          const ids = eventIdsOf.get(turn.fact.fact) ?? [];
          ids[turn.fact.index] = userId;
          eventIdsOf.set(turn.fact.fact, ids);
        }
      });
    });

    // Questions about the actor's own conversations: distinct facts, a random style each.
    for (const fact of r.sample(facts, Math.min(perActor, facts.length))) {
      const [category, variants] = r.pick(Object.entries(fact.questions)) as [QuestionCategory, string[]];
      const ids = eventIdsOf.get(fact)!;
      questions.push({
        questionId: `q${questions.length + 1}`,
        actorId: actor.actorId,
        query: r.pick(variants),
        category,
        evidence: fact.answeredBy.map((index) => ids[index]!),
      });
    }
    // Questions about documents the actor's scope chain sees.
    const visible = DOCUMENTS.filter(
      (doc) =>
        doc.scope.level === 'ORG' ||
        (doc.scope.level === 'ROLE' && doc.scope.roleKey === actor.roleKey) ||
        (doc.scope.level === 'TEAM' && doc.scope.teamKey === actor.teamKey),
    );
    const documentFacts = visible.flatMap((doc) => doc.facts.map((fact) => ({ doc, fact })));
    for (const { doc, fact } of r.sample(documentFacts, docPerActor)) {
      const [category, variants] = r.pick(Object.entries(fact.questions)) as [QuestionCategory, string[]];
      questions.push({
        questionId: `q${questions.length + 1}`,
        actorId: actor.actorId,
        query: r.pick(variants),
        category,
        evidence: [doc.documentId],
      });
    }
  }

  return { seed: options.seed, orgId, roles: ROLES, teams: TEAMS, actors, events, documents, questions };
}
