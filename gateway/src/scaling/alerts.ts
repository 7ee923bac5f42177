// POST /system/alert's logic: turns AlertManager's alerts into replica changes.
// firing -> one step up (1 -> 5 -> 10 ..., capped at the function's max);
// resolved -> back to the minimum. Each function named in the payload is
// handled once, under its lock; functions are independent of each other.
import { applyReplicas, limitsFor, type ScalingContext } from './context.js';
import { FUNCTION_LABEL, type Alert, type AlertPayload } from './alert-payload.js';
import { stepDown, stepUp } from './policy.js';
import { scalingEventOf } from '../metrics.js';

export interface AlertOutcome {
  /** The function named by the alert(s); undefined when the alert names none. */
  function?: string;
  alertnames: string[];
  status: 'firing' | 'resolved';
  action: 'scaled' | 'unchanged' | 'ignored' | 'failed';
  from?: number;
  to?: number;
  reason: string;
}

/**
 * A repeated notification of a firing alert steps up again only while the
 * function still gets at least RECENT_RATE invocations/s through this gateway
 * (over the last RECENT_SECONDS). The alert lags the load (rate windows,
 * keep_firing_for): once the load has stopped, its repeats must not add
 * replicas. RECENT_RATE is far below the alert's threshold (5/s): it only
 * tells a load that goes on from one that has stopped. A new alert always steps.
 */
const RECENT_SECONDS = 5;
const RECENT_RATE = 1;
/** Alert identities remembered per function (AlertManager sends one or a few). */
const REMEMBERED_ALERTS = 32;

export class AlertScaler {
  /** When each function last stepped up: a firing alert within SCALE_COOLDOWN of it is a repeat delivery. */
  private readonly lastStepUp = new Map<string, number>();
  /** Identities (fingerprint and start) of the firing alerts that have stepped each function. */
  private readonly seenFiring = new Map<string, string[]>();

  constructor(private readonly context: ScalingContext) {}

  async handle(payload: AlertPayload): Promise<AlertOutcome[]> {
    const outcomes: AlertOutcome[] = [];
    const byFunction = new Map<string, Alert[]>();
    for (const alert of payload.alerts) {
      const name = alert.labels[FUNCTION_LABEL]?.trim();
      if (!name) {
        const alertname = alert.labels.alertname ?? '(unnamed)';
        this.context.log.info({ alertname, status: alert.status, labels: alert.labels }, `alert ${alertname} names no function (no ${FUNCTION_LABEL} label): ignored`);
        outcomes.push({ alertnames: [alertname], status: alert.status, action: 'ignored', reason: `no ${FUNCTION_LABEL} label` });
        continue;
      }
      byFunction.set(name, [...(byFunction.get(name) ?? []), alert]);
    }
    const perFunction = await Promise.all(
      [...byFunction].map(([name, alerts]) => this.context.lock.run(name, () => this.scaleOne(name, alerts))),
    );
    return [...outcomes, ...perFunction];
  }

  /** Forgets a removed function. */
  forget(name: string): void {
    this.lastStepUp.delete(name);
    this.seenFiring.delete(name);
  }

  private async scaleOne(name: string, alerts: Alert[]): Promise<AlertOutcome> {
    // Several alerts about one function (several rules): one still firing keeps it up.
    const status: AlertOutcome['status'] = alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved';
    const base = { function: name, alertnames: [...new Set(alerts.map((a) => a.labels.alertname ?? '(unnamed)'))], status };
    const { log, clock, settings } = this.context;
    try {
      // Fresh from the provider: the replicas to step from, and whether it is a function at all.
      const fn = await this.context.functions.refresh(name);
      if (!fn) {
        log.info({ function: name, status }, `alert for ${name}, which is not a function (unknown, or a service without function=true): ignored`);
        return { ...base, action: 'ignored', reason: 'not a function' };
      }
      const limits = limitsFor(this.context, name, fn.labels);
      const from = fn.replicas;
      if (!limits.alertScaling) {
        log.info({ function: name, status }, `alert for ${name} ignored: com.openfaas.scale.factor is 0`);
        return { ...base, action: 'unchanged', from, to: from, reason: 'alert scaling off (com.openfaas.scale.factor=0)' };
      }
      if (status === 'firing') {
        const last = this.lastStepUp.get(name);
        if (last !== undefined && clock.now() - last < settings.SCALE_COOLDOWN * 1000) {
          log.debug({ function: name, replicas: from }, 'firing alert repeated within the cooldown: no step');
          return { ...base, action: 'unchanged', from, to: from, reason: `stepped up less than ${settings.SCALE_COOLDOWN} s ago` };
        }
        const seen = this.seenFiring.get(name) ?? [];
        const identities = alerts.filter((a) => a.status === 'firing').map(identity);
        const fresh = identities.filter((id) => !seen.includes(id));
        const recent = this.context.activity.recentInvocations(name, RECENT_SECONDS);
        if (fresh.length === 0 && recent < RECENT_RATE * RECENT_SECONDS) {
          log.info({ function: name, replicas: from, recent }, `repeated alert for ${name}, which is hardly invoked any more: no step (the alert lags the load)`);
          return { ...base, action: 'unchanged', from, to: from, reason: `${recent} invocation(s) in the last ${RECENT_SECONDS} s: the load has stopped` };
        }
        const to = stepUp(from, limits);
        if (to === from) return { ...base, action: 'unchanged', from, to, reason: `at the maximum (${limits.max})` };
        await applyReplicas(this.context, name, to);
        this.context.events?.recordScalingEvent(name, scalingEventOf(from, to));
        this.seenFiring.set(name, [...seen, ...fresh].slice(-REMEMBERED_ALERTS));
        this.lastStepUp.set(name, clock.now());
        this.context.activity.touch(name);
        log.info({ function: name, from, to, max: limits.max }, `scaled ${name} up from ${from} to ${to} replicas (alert firing)`);
        return { ...base, action: 'scaled', from, to, reason: 'firing' };
      }
      this.lastStepUp.delete(name);
      this.seenFiring.delete(name);
      const to = stepDown(from, limits);
      if (to === from) return { ...base, action: 'unchanged', from, to, reason: from === 0 ? 'asleep (0 replicas)' : `at or below the minimum (${limits.min})` };
      await applyReplicas(this.context, name, to);
      this.context.events?.recordScalingEvent(name, scalingEventOf(from, to));
      log.info({ function: name, from, to }, `scaled ${name} down from ${from} to ${to} replicas (alert resolved)`);
      return { ...base, action: 'scaled', from, to, reason: 'resolved' };
    } catch (error) {
      log.error({ err: error, function: name, status }, `scaling ${name} on an alert failed`);
      return { ...base, action: 'failed', reason: (error as Error).message };
    }
  }
}

/** What tells one alert from another across AlertManager's repeats: its fingerprint (label set) and start. */
function identity(alert: Alert): string {
  const labels = alert.fingerprint ?? JSON.stringify(Object.entries(alert.labels).sort());
  return `${labels}@${alert.startsAt ?? ''}`;
}
