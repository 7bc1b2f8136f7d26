import type { LlmClient } from '../../../common/llm/llm-client';
import type { Level, PromptMeta } from '../storage/hierarchy-store';

/** What a promotion prompt is generated from (seed 000: level, name and focus). */
export interface PromptSubject {
  level: Level;
  name: string;
  focus: string;
  /** For roles and teams: the org they belong to, whose focus frames theirs. */
  org?: { name: string; focus: string };
}

export interface GeneratedPrompt {
  prompt: string;
  meta: PromptMeta;
}

/**
 * Port that writes the promotion prompt of an org, role or team: the instruction that biases
 * memory extraction and promotion toward what matters at that scope. Two adapters: an LLM
 * one (when `LLM_BASE_URL` is configured) and a deterministic template.
 */
export interface PromptGenerator {
  generate(subject: PromptSubject): Promise<GeneratedPrompt>;
}

/** Bump when the template's wording changes, so stored prompts say which text they came from. */
export const TEMPLATE_VERSION = 'template-v1';
export const LLM_PROMPT_VERSION = 'llm-v1';

const LEVEL_GUIDANCE: Record<Level, string> = {
  org: 'facts that hold for everyone in the organisation: products, policies, terminology, customers and how the company works',
  role: 'what a person in this job function needs to remember: their tools, practices, recurring tasks, preferences and the decisions they make',
  team: 'what the members of this group share: their systems, processes, ownership, current projects, agreements and conventions',
};

/** Deterministic prompts: the same subject always gives the same text, with no model involved. */
export class TemplatePromptGenerator implements PromptGenerator {
  constructor(private readonly now: () => Date = () => new Date()) {}

  async generate(subject: PromptSubject): Promise<GeneratedPrompt> {
    const scope = subject.level === 'org' ? 'organisation' : subject.level;
    const lines = [
      `You extract long-term memories at the ${scope} level for "${subject.name}".`,
      subject.focus ? `Focus of this ${scope}: ${subject.focus}.` : `This ${scope} has no stated focus yet.`,
    ];
    if (subject.org) {
      lines.push(
        `It belongs to the organisation "${subject.org.name}"${subject.org.focus ? ` (${subject.org.focus})` : ''}.`,
      );
    }
    lines.push(
      `Keep ${LEVEL_GUIDANCE[subject.level]}.`,
      'Prefer durable facts, stated preferences and procedures over small talk; keep names, numbers, dates and versions exact.',
      `Promote a memory to this ${scope} only when it is relevant to the focus above and shared by several of its members; drop anything personal or one-off.`,
    );
    return {
      prompt: lines.join('\n'),
      meta: {
        generator: 'template',
        model: null,
        templateVersion: TEMPLATE_VERSION,
        generatedAt: this.now(),
      },
    };
  }
}

/** Prompts written by the configured chat model, from the same subject. */
export class LlmPromptGenerator implements PromptGenerator {
  constructor(
    private readonly llm: LlmClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async generate(subject: PromptSubject): Promise<GeneratedPrompt> {
    const scope = subject.level === 'org' ? 'organisation' : subject.level;
    const context = [
      `Level: ${scope}`,
      `Name: ${subject.name}`,
      `Focus: ${subject.focus || '(none given)'}`,
      ...(subject.org
        ? [`Organisation: ${subject.org.name}`, `Organisation focus: ${subject.org.focus || '(none given)'}`]
        : []),
    ].join('\n');
    const result = await this.llm.chat({
      messages: [
        {
          role: 'system',
          content:
            'You write the instruction a memory-extraction model follows for one scope of an organisation ' +
            '(an organisation, a role or a team). Write 4 to 8 sentences, addressed to the extractor, saying which ' +
            'facts, preferences and procedures matter at this scope and what to ignore. Answer with the instruction only.',
        },
        { role: 'user', content: `${context}\n\nKeep in particular: ${LEVEL_GUIDANCE[subject.level]}.` },
      ],
      temperature: 0,
      maxTokens: 400,
    });
    return {
      prompt: result.content,
      meta: {
        generator: 'llm',
        model: result.model,
        templateVersion: LLM_PROMPT_VERSION,
        generatedAt: this.now(),
      },
    };
  }
}
