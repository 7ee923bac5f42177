// The concurrency and capacity-scaling labels of a deployment, checked
// before anything is deployed (a 400 naming the label and why), and the
// watchdog's own limit set from them: a function deployed with
// com.openfaas.concurrency=N gets max_inflight=N, so its replicas hold the
// limit themselves against every program that calls them.
import { MAX_CONCURRENCY, MAX_INFLIGHT_ENV, parseConcurrency } from '../../../core/functions/concurrency.js';
import { LABEL } from '../../../core/labels.js';

const WHOLE = /^\s*\d+\s*$/;

/** What is wrong with the labels, each as [label path, message]; empty when nothing. */
export function concurrencyProblems(labels: Record<string, string>, envVars: Record<string, string>): Array<[string[], string]> {
  const problems: Array<[string[], string]> = [];
  const text = labels[LABEL.concurrency];
  const limit = parseConcurrency(text);
  if (text !== undefined && limit === undefined) {
    problems.push([['labels', LABEL.concurrency], `${JSON.stringify(text)} is not a whole number from 1 to ${MAX_CONCURRENCY} (the requests one replica is given at once)`]);
  }
  const own = envVars[MAX_INFLIGHT_ENV];
  if (limit !== undefined && own !== undefined && own.trim() !== String(limit)) {
    problems.push([['envVars', MAX_INFLIGHT_ENV], `${JSON.stringify(own)} differs from ${LABEL.concurrency}=${limit}: the watchdog would refuse what the gateway sends (set only the label, or both alike)`]);
  }
  const target = labels[LABEL.scaleTarget];
  if (target !== undefined) {
    if (!WHOLE.test(target) || Number(target) < 1) {
      problems.push([['labels', LABEL.scaleTarget], `${JSON.stringify(target)} is not a whole number of 1 or more`]);
    } else {
      const capacity = labels[LABEL.scaleType]?.trim().toLowerCase() === 'capacity';
      const ownLimit = limit ?? (text === undefined ? parseConcurrency(own) : undefined);
      if (capacity && ownLimit !== undefined && Number(target) > ownLimit) {
        problems.push([['labels', LABEL.scaleTarget], `${target} is above the concurrency limit (${ownLimit}): a replica never has more than that in flight, so the function would never scale up`]);
      }
    }
  }
  return problems;
}

/** The environment the function gets: max_inflight set from com.openfaas.concurrency (checked first). */
export function withWatchdogLimit(labels: Record<string, string> | undefined, envVars: Record<string, string> | undefined): Record<string, string> | undefined {
  const limit = parseConcurrency(labels?.[LABEL.concurrency]);
  if (limit === undefined || envVars?.[MAX_INFLIGHT_ENV] !== undefined) return envVars;
  return { ...envVars, [MAX_INFLIGHT_ENV]: String(limit) };
}
