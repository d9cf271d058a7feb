// When a schedule is due, and which LYNCDR_SCHEDULES the app refuses to start with.
import { describe, expect, it } from 'vitest';
import { dueOccurrences, nextOccurrence, parseNcrontab } from '../../shared/schedules/occurrences.js';
import { schedulesConfig } from '../../functions/schedules/config.js';
import { daysBefore } from '../../orchestrations/runbooks/pchat-backup.js';

const at = (s: string) => new Date(s);

describe('NCRONTAB occurrences (UTC, six fields)', () => {
  it('the newest occurrence in (after, now] runs; the ones before it are listed as missed and counted', () => {
    const d = dueOccurrences('0 30 2 * * *', at('2026-11-28T02:30:00Z'), at('2026-12-01T09:00:00Z'));
    expect(d.latest?.toISOString()).toBe('2026-12-01T02:30:00.000Z');
    expect(d.earlier.map((t) => t.toISOString())).toEqual(['2026-11-29T02:30:00.000Z', '2026-11-30T02:30:00.000Z']);
    expect(d).toMatchObject({ earlierCount: 2, countCapped: false });
  });

  it('an occurrence exactly at now is due; one exactly at `after` was handled already', () => {
    expect(dueOccurrences('0 30 2 * * *', at('2026-12-01T02:29:00Z'), at('2026-12-01T02:30:00Z')).latest?.toISOString()).toBe('2026-12-01T02:30:00.000Z');
    expect(dueOccurrences('0 30 2 * * *', at('2026-12-01T02:30:00Z'), at('2026-12-01T09:00:00Z'))).toEqual({ earlier: [], earlierCount: 0, countCapped: false });
  });

  it('after a long outage the list stops at its length and the count at its limit, and the newest still runs', () => {
    const d = dueOccurrences('* * * * * *', at('2026-12-01T00:00:00Z'), at('2026-12-01T01:00:00Z'), 3, 100);
    expect(d.latest?.toISOString()).toBe('2026-12-01T01:00:00.000Z');
    expect(d.earlier.map((t) => t.toISOString())).toEqual(['2026-12-01T00:00:01.000Z', '2026-12-01T00:00:02.000Z', '2026-12-01T00:00:03.000Z']);
    expect(d).toMatchObject({ earlierCount: 100, countCapped: true });
    expect(dueOccurrences('* * * * * *', at('2026-12-01T00:00:00Z'), at('2026-12-01T00:01:00Z')).earlierCount).toBe(59);
  });

  it('the next occurrence is strictly after the time given', () => {
    expect(nextOccurrence('0 0 6 * * 1', at('2026-11-30T06:00:00Z'))?.toISOString()).toBe('2026-12-07T06:00:00.000Z');
  });

  it('refuses five or seven fields and values out of range, saying which', () => {
    expect(() => parseNcrontab('30 2 * * *')).toThrow(/has 5 fields; NCRONTAB has six/);
    expect(() => parseNcrontab('0 30 2 * * * 2026')).toThrow(/has 7 fields/);
    expect(() => parseNcrontab('0 61 2 * * *')).toThrow(/minute/);
  });

  it('refuses where cron dialects disagree: both day fields restricted, and L, W, # or ?; names of days and months stay', () => {
    expect(() => parseNcrontab('0 0 6 1 * 1')).toThrow(/restricts both the day of the month and the day of the week/);
    for (const e of ['0 0 6 L * *', '0 0 6 15W * *', '0 0 6 * * 5#3', '0 0 6 ? * *', '0 0 6 * * 5L']) expect(() => parseNcrontab(e)).toThrow(/uses L, W, # or \?/);
    for (const e of ['0 0 6 * JUL WED', '0 0 6 * * MON-FRI', '0 0 6 1,15 * *']) expect(() => parseNcrontab(e)).not.toThrow();
  });
});

describe('LYNCDR_SCHEDULES', () => {
  const env = (schedules: unknown, more: Record<string, string> = {}) => ({ LYNCDR_SCHEDULES: JSON.stringify(schedules), ...more });

  it('defaults: every-minute tick, five minutes of grace, live mode, no options', () => {
    const c = schedulesConfig(env([{ name: 'pchat-nightly', runbook: 'pchat-backup', cron: '0 30 2 * * *' }]));
    expect(c).toEqual({
      tick: '0 * * * * *', graceMs: 300_000, table: 'LyncdrSchedules',
      schedules: [{ name: 'pchat-nightly', runbook: 'pchat-backup', cron: '0 30 2 * * *', mode: 'live', options: {}, afterTopologyChange: false }],
    });
    expect(schedulesConfig({}).schedules).toEqual([]);
  });

  it.each([
    [[{ name: 'restore', runbook: 'pchat-restore', cron: '0 0 3 * * *' }], /LYNCDR_SCHEDULES\.0\.runbook: pchat-restore never runs on a schedule/],
    [[{ name: 'r', runbook: 'readiness', cron: '0 0 3 * *' }], /LYNCDR_SCHEDULES\.0\.cron: not an NCRONTAB expression: "0 0 3 \* \*" has 5 fields/],
    [[{ name: 'b', runbook: 'pchat-backup', cron: '0 0 3 * * *', options: { retentionDays: 0 } }], /LYNCDR_SCHEDULES\.0\.options: pchat-backup: option retentionDays/],
    [[{ name: 'b', runbook: 'pchat-backup', cron: '0 0 3 * * *', options: { date: '2026-01-01' } }], /options\.date: the scheduler gives pchat-backup the date of each occurrence/],
    [[{ name: 'b', runbook: 'pchat-backup', cron: '0 0 3 * * *', afterTopologyChange: true }], /afterTopologyChange: only a readiness schedule/],
    [[{ name: 'a', runbook: 'readiness', cron: '0 0 3 * * *' }, { name: 'a', runbook: 'readiness', cron: '0 0 4 * * *' }], /LYNCDR_SCHEDULES\.1\.name: two schedules are named a/],
    [[{ name: 'Bad Name', runbook: 'readiness', cron: '0 0 3 * * *' }], /name: lowercase letters/],
    [[{ name: 'a', runbook: 'readiness', cron: '0 0 3 * * *', extra: 1 }], /LYNCDR_SCHEDULES\.0: Unrecognized key/],
  ])('refuses to start with %j', (schedules, message) => {
    expect(() => schedulesConfig(env(schedules))).toThrow(message);
  });

  it('refuses a schedule that fires more often than the tick looks (every tick would report misses)', () => {
    expect(() => schedulesConfig(env([{ name: 'fast', runbook: 'readiness', cron: '*/10 * * * * *' }])))
      .toThrow('refusing to start: LYNCDR_SCHEDULES fast: "*/10 * * * * *" fires every 10 s, more often than the scheduler\'s tick (LYNCDR_SCHEDULE_TICK "0 * * * * *", up to 60 s apart)');
    expect(schedulesConfig(env([{ name: 'fast', runbook: 'readiness', cron: '*/10 * * * * *' }], { LYNCDR_SCHEDULE_TICK: '*/5 * * * * *' })).schedules).toHaveLength(1);
    expect(schedulesConfig(env([{ name: 'minutely', runbook: 'readiness', cron: '0 * * * * *' }])).schedules).toHaveLength(1);
  });

  it('refuses text that is not JSON, and a tick that is not NCRONTAB', () => {
    expect(() => schedulesConfig({ LYNCDR_SCHEDULES: '[{' })).toThrow(/refusing to start: LYNCDR_SCHEDULES: not JSON/);
    expect(() => schedulesConfig({ LYNCDR_SCHEDULE_TICK: '* * * * *' })).toThrow(/LYNCDR_SCHEDULE_TICK: not an NCRONTAB expression/);
  });
});

describe('pchat-backup retention window', () => {
  it('keeps retentionDays days ending on the run date, across months and leap days', () => {
    expect(daysBefore('2026-11-21', 13)).toBe('2026-11-08');
    expect(daysBefore('2026-03-01', 1)).toBe('2026-02-28');
    expect(daysBefore('2028-03-01', 1)).toBe('2028-02-29');
    expect(daysBefore('2027-01-01', 0)).toBe('2027-01-01');
  });
});
