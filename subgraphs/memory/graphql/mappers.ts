import type { Job, Memory as MemoryModel } from '../storage/memory-store';
import type { IngestionJob, JobProgress, Memory } from './types';

export function toMemory(memory: MemoryModel): Memory {
  return memory as unknown as Memory;
}

export function toJob(job: Job): IngestionJob {
  return job as unknown as IngestionJob;
}

export function toProgress(job: Job): JobProgress {
  return {
    jobId: job.jobId,
    status: job.status as JobProgress['status'],
    stage: job.stage,
    processed: job.processed,
    total: job.total,
    failed: job.failed,
    errors: job.errors,
    message: job.message,
  };
}
