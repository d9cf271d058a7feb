// When a schedule is due: NCRONTAB (six fields, seconds first, as Azure's timer trigger takes
// them) evaluated by croner in UTC, the same library the local host's timer triggers use.
import { Cron } from 'croner';

/** Throws with croner's own message for an expression it cannot read; Azure wants exactly six fields. */
export function parseNcrontab(expr: string): Cron {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`"${expr}" has ${fields.length} fields; NCRONTAB has six: {second} {minute} {hour} {day} {month} {day-of-week}`);
  }
  // Where cron dialects disagree, refuse rather than guess: with both day fields restricted some
  // OR them and some AND them, and L, W, # and ? are extensions NCRONTAB does not have.
  if (fields[3] !== '*' && fields[5] !== '*') {
    throw new Error(`"${expr}" restricts both the day of the month and the day of the week; restrict one (dialects disagree on how the two combine)`);
  }
  if (fields.some((f) => /[#?]|(^|[^A-Z])L($|[^A-Z])|\dW/i.test(f.replace(/JUL/gi, '').replace(/WED/gi, '')))) {
    throw new Error(`"${expr}" uses L, W, # or ?, which NCRONTAB does not have`);
  }
  return new Cron(fields.join(' '), { timezone: 'UTC', paused: true });
}

/** The shortest and longest gaps between occurrences, over the next `n` from a fixed date (deterministic). */
export function gapsMs(expr: string, n = 200): { shortest: number; longest: number } {
  const runs = parseNcrontab(expr).nextRuns(n, new Date('2026-01-01T00:00:00Z'));
  let shortest = Infinity;
  let longest = 0;
  for (let i = 1; i < runs.length; i++) {
    const gap = runs[i].getTime() - runs[i - 1].getTime();
    shortest = Math.min(shortest, gap);
    longest = Math.max(longest, gap);
  }
  return { shortest, longest };
}

export const nextOccurrence = (expr: string, after: Date): Date | undefined => parseNcrontab(expr).nextRun(after) ?? undefined;

export interface Due {
  /** The newest occurrence in (after, upTo]: the one to run now. */
  latest?: Date;
  /** The ones before it, oldest first, at most `list` of them: missed if the app was not running. */
  earlier: Date[];
  /** How many earlier ones there were (counted up to `countLimit` after a long outage). */
  earlierCount: number;
  countCapped: boolean;
}

export function dueOccurrences(expr: string, after: Date, upTo: Date, list = 20, countLimit = 10_000): Due {
  const cron = parseNcrontab(expr);
  // previousRuns is strictly before its reference: 1 ms past upTo includes an occurrence at upTo.
  const [latest] = cron.previousRuns(1, new Date(upTo.getTime() + 1));
  if (!latest || latest.getTime() <= after.getTime()) return { earlier: [], earlierCount: 0, countCapped: false };
  const earlier: Date[] = [];
  let count = 0;
  for (let t = cron.nextRun(after); t && t.getTime() < latest.getTime(); t = cron.nextRun(t)) {
    if (count >= countLimit) return { latest, earlier, earlierCount: count, countCapped: true };
    count++;
    if (earlier.length < list) earlier.push(t);
  }
  return { latest, earlier, earlierCount: count, countCapped: false };
}
