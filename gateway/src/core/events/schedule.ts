// Schedules (annotation `schedule`): 5-field cron expressions as the
// OpenFaaS cron connector reads them (minute hour day-of-month month
// day-of-week), and 6-field ones with a leading seconds field for short
// periods. Parsed and stepped by croner (no timers of its own here: every
// connector replica computes the same tick times from the expression, which
// is what lets the ticks be deduplicated across replicas). Times are UTC.
import { Cron } from 'croner';

export interface Schedule {
  expression: string;
  /** The first tick strictly after `after` (ms since the epoch); undefined when the expression has no more. */
  next(after: number): number | undefined;
}

export type ParsedSchedule = { ok: true; schedule: Schedule } | { ok: false; message: string };

export function parseSchedule(text: string): ParsedSchedule {
  const expression = text.trim().replace(/\s+/g, ' ');
  const fields = expression.split(' ').length;
  // croner also takes @hourly-style nicknames and 7 fields (years); OpenFaaS schedules are 5 fields, seconds are ours.
  if (expression === '' || (fields !== 5 && fields !== 6)) {
    return { ok: false, message: `schedule ${JSON.stringify(text)}: expected 5 fields (minute hour day month weekday) or 6 with a leading seconds field` };
  }
  let cron: Cron;
  try {
    // legacyMode: a day of the month OR a weekday matches, as in Vixie cron (and Go's robfig/cron, which OpenFaaS uses).
    cron = new Cron(expression, { paused: true, timezone: 'Etc/UTC', mode: '5-or-6-parts', legacyMode: true });
  } catch (error) {
    return { ok: false, message: `schedule ${JSON.stringify(text)}: ${(error as Error).message.replace(/^CronPattern: /, '')}` };
  }
  if (!cron.nextRun(new Date())) return { ok: false, message: `schedule ${JSON.stringify(text)} never runs` };
  return {
    ok: true,
    schedule: {
      expression,
      next(after: number): number | undefined {
        return cron.nextRun(new Date(after))?.getTime();
      },
    },
  };
}
