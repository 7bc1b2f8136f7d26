/**
 * Synthetic data shared by the benchmarks: template sentences (embedded with the real encoder
 * by the caller) and distinct vectors around them, plus percentiles.
 */
export const TOPICS = [
  'refund',
  'invoice',
  'shipping',
  'password reset',
  'API limits',
  'onboarding',
  'pricing',
  'SLA',
  'data export',
  'SSO',
];
export const SUBJECTS = [
  'Customers',
  'Enterprise accounts',
  'The support team',
  'Admins',
  'Trial users',
  'Partners',
  'Our EU customers',
  'The billing service',
];
const FACTS = [
  'must be handled within',
  'are reviewed every',
  'can be extended by',
  'expire after',
  'are escalated after',
  'are limited to',
];
const UNITS = ['days', 'hours', 'weeks', 'requests per minute', 'seats', 'GB'];

export function sentencePool(count: number): string[] {
  let state = 42;
  const pick = <T>(list: T[]) => list[(state = (state * 48271) % 2147483647) % list.length]!;
  return Array.from(
    { length: count },
    (_, i) => `${pick(SUBJECTS)} ${pick(FACTS)} ${(i % 90) + 1} ${pick(UNITS)} for ${pick(TOPICS)} (${i}).`,
  );
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * A vector per memory: its sentence's, nudged by small seeded noise and renormalised, in
 * pgvector's text form. No two memories share a vector (no real corpus has exact duplicates,
 * and they would flatter or break an approximate index), while neighbourhoods stay realistic.
 */
export function noisyVectors(base: readonly Float32Array[], seed = 7): (i: number) => string {
  let state = seed;
  const noise = () => ((state = (state * 48271) % 2147483647) / 2147483647 - 0.5) * 0.02;
  return (i) => {
    const v = Array.from(base[i % base.length]!, (x) => x + noise());
    const norm = Math.hypot(...v);
    return `[${v.map((x) => (x / norm).toFixed(6)).join(',')}]`;
  };
}
