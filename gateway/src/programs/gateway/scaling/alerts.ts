// POST /system/alert's logic: turns AlertManager's alerts into replica changes.
// firing -> one step up (1 -> 5 -> 10 ..., capped at the function's max);
// resolved -> back to the minimum. Each function named in the payload is
// handled once, under its lock; functions are independent of each other.
//
// Several gateways may get the same alert (AlertManager posts to every
// gateway task, and repeats): a step is applied only if the function still
// has the replicas it was read with (a compare-and-set in the orchestrator),
// and when it last stepped up and for which alerts is kept with the function
// in the orchestrator, not in this process. So an alert that reaches two
// gateways, or one gateway twice, steps a function once.
import { parseFunctionName } from '../../../core/functions/names.js';
import { keyOf, ProviderError, type FunctionRef } from '../provider/types.js';
import { ALERT_FUNCTION_LABEL, type Alert, type AlertPayload } from './alert-payload.js';
import { applyReplicas, limitsFor, locked, nameOf, type ScalingContext } from './context.js';
import { stepDown, stepUp } from './policy.js';
import { isQueueScaled } from './queue-policy.js';
import { isCapacityScaled } from './capacity-policy.js';

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
const REMEMBERED_ALERTS = 16;
/** Keys of the state kept with the function (ScaleOptions.state). */
const STEPPED_UP_AT = 'stepped-up-at';
const ALERTS_SEEN = 'alerts-seen';
/** Tries of the compare-and-set when another gateway changed the function in between. */
const ATTEMPTS = 3;

export class AlertScaler {
  constructor(private readonly context: ScalingContext) {}

  async handle(payload: AlertPayload): Promise<AlertOutcome[]> {
    const outcomes: AlertOutcome[] = [];
    const byFunction = new Map<string, { ref: FunctionRef; alerts: Alert[] }>();
    for (const alert of payload.alerts) {
      const label = alert.labels[ALERT_FUNCTION_LABEL]?.trim();
      if (!label) {
        const alertname = alert.labels.alertname ?? '(unnamed)';
        this.context.log.info(
          { alertname, status: alert.status, labels: alert.labels },
          `alert ${alertname} names no function (no ${ALERT_FUNCTION_LABEL} label): ignored`,
        );
        outcomes.push({ alertnames: [alertname], status: alert.status, action: 'ignored', reason: `no ${ALERT_FUNCTION_LABEL} label` });
        continue;
      }
      const ref = parseFunctionName(label, this.context.settings.DEFAULT_NAMESPACE);
      const group = byFunction.get(keyOf(ref)) ?? { ref, alerts: [] };
      group.alerts.push(alert);
      byFunction.set(keyOf(ref), group);
    }
    const perFunction = await Promise.all([...byFunction.values()].map(({ ref, alerts }) => locked(this.context, ref, () => this.scaleOne(ref, alerts))));
    return [...outcomes, ...perFunction];
  }

  private async scaleOne(ref: FunctionRef, alerts: Alert[]): Promise<AlertOutcome> {
    // Several alerts about one function (several rules): one still firing keeps it up.
    const status: AlertOutcome['status'] = alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved';
    const name = nameOf(this.context, ref);
    const base = { function: name, alertnames: [...new Set(alerts.map((a) => a.labels.alertname ?? '(unnamed)'))], status };
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.decide(ref, name, status, alerts, base);
        } catch (error) {
          // Another gateway changed the replicas between our read and our write: read again and decide again.
          if (attempt < ATTEMPTS && error instanceof ProviderError && error.kind === 'conflict') continue;
          throw error;
        }
      }
    } catch (error) {
      this.context.log.error({ err: error, function: name, status }, `scaling ${name} on an alert failed`);
      return { ...base, action: 'failed', reason: (error as Error).message };
    }
  }

  private async decide(
    ref: FunctionRef,
    name: string,
    status: AlertOutcome['status'],
    alerts: Alert[],
    base: Pick<AlertOutcome, 'function' | 'alertnames' | 'status'>,
  ): Promise<AlertOutcome> {
    const { log, clock, settings } = this.context;
    // Fresh from the provider: the replicas to step from, the state other gateways left, and whether it is a function at all.
    const entry = await this.context.functions.refresh(ref);
    if (!entry) {
      log.info({ function: name, status }, `alert for ${name}, which is not a function of this gateway: ignored`);
      return { ...base, action: 'ignored', reason: 'not a function' };
    }
    const limits = limitsFor(this.context, ref, entry.status.labels);
    const from = entry.status.replicas;
    if (isQueueScaled(entry.status.labels)) {
      log.debug({ function: name, status }, `alert for ${name} ignored: it scales on its queue (com.openfaas.scale.type=queue)`);
      return { ...base, action: 'unchanged', from, to: from, reason: 'scales on its queue (com.openfaas.scale.type=queue)' };
    }
    if (isCapacityScaled(entry.status.labels)) {
      log.debug({ function: name, status }, `alert for ${name} ignored: it scales on its calls in flight (com.openfaas.scale.type=capacity)`);
      return { ...base, action: 'unchanged', from, to: from, reason: 'scales on its calls in flight (com.openfaas.scale.type=capacity)' };
    }
    if (!limits.alertScaling) {
      log.info({ function: name, status }, `alert for ${name} ignored: com.openfaas.scale.factor is 0`);
      return { ...base, action: 'unchanged', from, to: from, reason: 'alert scaling off (com.openfaas.scale.factor=0)' };
    }
    if (status === 'firing') {
      const last = Number(entry.state[STEPPED_UP_AT] ?? NaN);
      if (Number.isFinite(last) && Math.abs(clock.now() - last) < settings.SCALE_COOLDOWN * 1000) {
        log.debug({ function: name, replicas: from }, 'firing alert repeated within the cooldown: no step');
        return { ...base, action: 'unchanged', from, to: from, reason: `stepped up less than ${settings.SCALE_COOLDOWN} s ago` };
      }
      const seen = parseSeen(entry.state[ALERTS_SEEN]);
      const fresh = [...new Set(alerts.filter((a) => a.status === 'firing').map(identity))].filter((id) => !seen.includes(id));
      const recent = this.context.activity.recentInvocations(keyOf(ref), RECENT_SECONDS);
      if (fresh.length === 0 && recent < RECENT_RATE * RECENT_SECONDS) {
        log.info({ function: name, replicas: from, recent }, `repeated alert for ${name}, which is hardly invoked any more: no step (the alert lags the load)`);
        return { ...base, action: 'unchanged', from, to: from, reason: `${recent} invocation(s) in the last ${RECENT_SECONDS} s: the load has stopped` };
      }
      const to = stepUp(from, limits);
      if (to === from) return { ...base, action: 'unchanged', from, to, reason: `at the maximum (${limits.max})` };
      await applyReplicas(this.context, ref, to, {
        ifReplicas: from,
        state: { [STEPPED_UP_AT]: String(clock.now()), [ALERTS_SEEN]: JSON.stringify([...seen, ...fresh].slice(-REMEMBERED_ALERTS)) },
      }, 'rate');
      this.context.activity.touch(keyOf(ref));
      log.info({ function: name, from, to, max: limits.max }, `scaled ${name} up from ${from} to ${to} replicas (alert firing)`);
      return { ...base, action: 'scaled', from, to, reason: 'firing' };
    }
    const to = stepDown(from, limits);
    const clear = { [STEPPED_UP_AT]: '', [ALERTS_SEEN]: '[]' };
    if (to === from) {
      if (entry.state[STEPPED_UP_AT]) await applyReplicas(this.context, ref, from, { ifReplicas: from, state: clear });
      return { ...base, action: 'unchanged', from, to, reason: from === 0 ? 'asleep (0 replicas)' : `at or below the minimum (${limits.min})` };
    }
    await applyReplicas(this.context, ref, to, { ifReplicas: from, state: clear }, 'rate');
    log.info({ function: name, from, to }, `scaled ${name} down from ${from} to ${to} replicas (alert resolved)`);
    return { ...base, action: 'scaled', from, to, reason: 'resolved' };
  }
}

function parseSeen(text: string | undefined): string[] {
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** What tells one alert from another across AlertManager's repeats: its fingerprint (label set) and start. */
function identity(alert: Alert): string {
  const labels = alert.fingerprint ?? JSON.stringify(Object.entries(alert.labels).sort());
  return `${labels}@${alert.startsAt ?? ''}`;
}
