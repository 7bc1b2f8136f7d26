import 'reflect-metadata';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IngestionJob, JobStatus, Scope, ScopeLevel } from './types';

export enum PromotionDecision {
  PROMOTE = 'PROMOTE',
  UPDATE = 'UPDATE',
  UNCHANGED = 'UNCHANGED',
  REJECT = 'REJECT',
  ERROR = 'ERROR',
}
registerEnumType(PromotionDecision, {
  name: 'PromotionDecision',
  description:
    'PROMOTE: a new memory at the target scope. UPDATE: the existing promoted memory gains support or provenance. ' +
    'UNCHANGED: it already has them. REJECT: the judge found it does not matter at that scope. ERROR: the judge failed.',
  valuesConfig: {
    PROMOTE: { description: 'A new memory at the target scope.' },
    UPDATE: { description: "The cluster's existing promoted memory gains support or provenance." },
    UNCHANGED: { description: 'The existing promoted memory already has this support and provenance.' },
    REJECT: {
      description: 'The judge found it does not matter at the target scope (its promotion prompt and focus).',
    },
    ERROR: { description: 'The judge failed (the reason says how); nothing was written.' },
  },
});

@ObjectType({ description: 'The thresholds of promotion.' })
export class PromotionThresholds {
  @Field(() => Int, {
    description: 'Distinct actors of a role (team) sharing a memory for it to go to the role (team).',
  })
  minActorSupport!: number;
  @Field(() => Int, { description: 'Distinct roles and teams sharing a memory for it to go to the org.' })
  minGroupSupport!: number;
  @Field(() => Float, {
    description: 'Cosine similarity (average linkage) at which memories are one statement.',
  })
  clusterSimilarity!: number;
  @Field(() => Float, { description: 'Judge score (0–1) a cluster needs (the deterministic judge).' })
  minScore!: number;
}

@ObjectType({ description: 'The configured defaults of promotion (PROMOTION_* variables).' })
export class PromotionDefaults extends PromotionThresholds {
  @Field(() => Int, {
    description: 'PROMOTION_INTERVAL_SECONDS: seconds between automatic promotion runs of an org; 0: never.',
  })
  intervalSeconds!: number;
}

@ObjectType({
  description:
    "An org's promotion thresholds (its own values, else the configured defaults) and its promotion schedule.",
})
export class PromotionSettings extends PromotionThresholds {
  @Field(() => ID) orgId!: string;
  @Field(() => Int, {
    nullable: true,
    description:
      "This org's own schedule: at most one automatic promotion run per this many seconds (counted from its latest run, " +
      'scheduled or requested, not a dry run); 0: never automatically; null: the default (defaults.intervalSeconds). ' +
      'Scheduled rounds are at least 5 seconds apart, so a shorter interval acts as 5.',
  })
  intervalSeconds!: number | null;
  @Field(() => PromotionDefaults, { description: 'The configured defaults (PROMOTION_* variables).' })
  defaults!: PromotionDefaults;
  @Field(() => Date, { nullable: true, description: 'When an admin last changed them; null: all defaults.' })
  updatedAt!: Date | null;
}

@InputType({ description: 'Fields left out stay as they are; null restores the default.' })
export class PromotionSettingsInput {
  @Field(() => Int, { nullable: true }) minActorSupport?: number | null;
  @Field(() => Int, { nullable: true }) minGroupSupport?: number | null;
  @Field(() => Float, { nullable: true }) clusterSimilarity?: number | null;
  @Field(() => Float, { nullable: true }) minScore?: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      'Seconds between automatic promotion runs of this org (0: never; 0 to 31536000); null: the default.',
  })
  intervalSeconds?: number | null;
}

@ObjectType({
  description:
    'One cluster of memories shared by enough members of a level, what the judge said of it and what was (or, in a dry run, would be) written.',
})
export class PromotionProposal {
  @Field(() => Scope, { description: 'Where the promoted memory goes (a role, a team or the org).' })
  targetScope!: Scope;
  @Field(() => String, { nullable: true }) targetName!: string | null;
  @Field(() => [ScopeLevel], { description: 'Levels of the sources: ACTOR, or ROLE and TEAM for the org.' })
  sourceLevels!: ScopeLevel[];
  @Field({ description: 'The promoted statement (the most central member, or the one the LLM wrote).' })
  statement!: string;
  @Field(() => Int, { description: 'Distinct supporters: actors, or roles and teams for the org.' })
  support!: number;
  @Field(() => Int) minSupport!: number;
  @Field(() => [ID], { description: 'Actor ids, or ROLE:<id> / TEAM:<id> for the org.' })
  supporters!: string[];
  @Field(() => Float, { nullable: true, description: "The judge's score (0–1); null when it failed." })
  score!: number | null;
  @Field(() => Float) minScore!: number;
  @Field(() => PromotionDecision) decision!: PromotionDecision;
  @Field({ description: 'Why: the judge’s reason, or the existing promoted memory.' }) reason!: string;
  @Field({ description: "The target level's promotion prompt the judge used." }) prompt!: string;
  @Field({ description: '`deterministic` or `llm:<model>`.' }) judge!: string;
  @Field(() => [ID], {
    description:
      'Every memory of the cluster (in a dry run, an org proposal may name an unwritten role or team proposal as proposed:<LEVEL>:<id>:<n>).',
  })
  sourceMemoryIds!: string[];
  @Field(() => [ID], { description: "The union of the sources' events." }) eventIds!: string[];
  @Field(() => ID, {
    nullable: true,
    description: 'The promoted memory written, updated or (dry run) to update.',
  })
  memoryId!: string | null;
  @Field({ description: 'Whether this run wrote it (never in a dry run).' }) applied!: boolean;
}

@ObjectType({
  description:
    'A promotion run of an org. Progress streams on jobProgress(jobId); proposals are listed once it is DONE.',
})
export class PromotionJob {
  @Field(() => ID) jobId!: string;
  @Field(() => ID) orgId!: string;
  @Field(() => JobStatus) status!: JobStatus;
  @Field({ description: 'A dry run judges everything and writes no memory.' }) dryRun!: boolean;
  @Field({ description: '`deterministic` or `llm:<model>`.' }) judge!: string;
  @Field(() => PromotionThresholds, { description: 'The thresholds this run used.' })
  settings!: PromotionThresholds;
  @Field(() => [PromotionProposal]) proposals!: PromotionProposal[];
  @Field(() => IngestionJob, { description: 'The job (kind PROMOTE_MEMORIES), as job(jobId) shows it.' })
  job!: IngestionJob;
  @Field() createdAt!: Date;
}
