// The shared runtime every program builds the same way: a view of the
// functions in, the routing table that follows it (ready addresses per
// function, pools of connections per instance, instances found dead left
// out), and the invocation core on top. The gateway passes its scaler as the
// waker; the queue worker and the connector pass one that asks the gateways.
import type { Logger } from 'pino';
import type { FunctionLookup } from './functions/view.js';
import { qualifiedName } from './functions/names.js';
import { keyOf } from './functions/types.js';
import { concurrencyOf } from './functions/concurrency.js';
import { InvocationCore, type Waker } from './invocation/core.js';
import { LoadTable, takeLoadReport, type FunctionLoadReport } from './invocation/load.js';
import type { InvocationMetrics } from './invocation/metrics.js';
import { EndpointTable } from './upstream/endpoints.js';
import { Forwarder } from './upstream/forward.js';
import { Liveness } from './upstream/liveness.js';
import { SlotTable } from './upstream/slots.js';

export interface RuntimeSettings {
  DEFAULT_NAMESPACE: string;
  UPSTREAM_TIMEOUT: number;
  UPSTREAM_CONNECT_TIMEOUT: number;
  UPSTREAM_CHECK_AFTER: number;
  UPSTREAM_CONNECTIONS: number;
  WAKE_TIMEOUT: number;
  FUNCTION_BODY_LIMIT: number;
  /** Seconds a call may wait for a free slot; undefined: UPSTREAM_TIMEOUT (the time a function is given to answer). */
  CONCURRENCY_MAX_WAIT?: number | undefined;
  CONCURRENCY_MAX_WAITING: number;
}

export interface Runtime {
  endpoints: EndpointTable;
  slots: SlotTable;
  loads: LoadTable;
  /** Every function's load since the last call (the load reports, every ~500 ms). */
  takeLoadReport(): Record<string, FunctionLoadReport>;
  forwarder: Forwarder;
  invocations: InvocationCore;
  close(): Promise<void>;
}

export function buildRuntime(parts: { functions: FunctionLookup; waker: Waker; metrics: InvocationMetrics; log: Logger; settings: RuntimeSettings }): Runtime {
  const { functions, settings, log } = parts;
  const endpoints = new EndpointTable();
  const nameOfKey = (key: string) => {
    const dot = key.lastIndexOf('.');
    return qualifiedName({ name: key.slice(0, dot), namespace: key.slice(dot + 1) }, settings.DEFAULT_NAMESPACE);
  };
  const slots = new SlotTable(endpoints, { maxWaiting: settings.CONCURRENCY_MAX_WAITING, nameOf: nameOfKey });
  const loads = new LoadTable();
  parts.metrics.observeLoads(function* () {
    for (const { status } of functions.list()) {
      const load = loads.get(keyOf(status));
      yield { name: qualifiedName(status, settings.DEFAULT_NAMESPACE), inflight: load?.inflight ?? 0, waiting: load?.waiting ?? 0 };
    }
  });
  // An instance found dead (it stopped accepting connections) gets no more calls, and the calls waiting on it are retried elsewhere.
  const liveness = new Liveness({
    connectTimeoutMs: settings.UPSTREAM_CONNECT_TIMEOUT * 1000,
    onDead: (address) => {
      log.warn({ address }, 'function instance does not accept connections: leaving it out');
      endpoints.reject(address);
      forwarder.drop(address);
    },
  });
  const forwarder: Forwarder = new Forwarder({
    timeoutMs: settings.UPSTREAM_TIMEOUT * 1000,
    connectTimeoutMs: settings.UPSTREAM_CONNECT_TIMEOUT * 1000,
    connectionsPerInstance: settings.UPSTREAM_CONNECTIONS,
    slowAfterMs: settings.UPSTREAM_CHECK_AFTER * 1000,
    onSlow: (address) => liveness.suspect(address),
  });
  // Routing follows the view: each function's ready addresses, and the pools of instances that went away are closed.
  const unsubscribe = functions.onChange((ref, entry) => {
    const key = keyOf(ref);
    if (entry) {
      endpoints.set(key, entry.endpoints, entry.starting);
      slots.configure(key, concurrencyOf(entry.status));
      slots.changed(key);
    } else {
      endpoints.forget(key);
      slots.configure(key, undefined);
      loads.forget(key);
      parts.metrics.forget(qualifiedName(ref, settings.DEFAULT_NAMESPACE));
    }
    forwarder.retain(new Set(functions.list().flatMap((e) => [...e.endpoints, ...e.starting])));
  });
  const invocations = new InvocationCore({
    functions,
    endpoints,
    slots,
    loads,
    forwarder,
    waker: parts.waker,
    metrics: parts.metrics,
    log,
    settings: { ...settings, CONCURRENCY_MAX_WAIT: settings.CONCURRENCY_MAX_WAIT ?? settings.UPSTREAM_TIMEOUT },
  });
  return {
    endpoints,
    slots,
    loads,
    takeLoadReport: () => takeLoadReport(loads, (key) => slots.inflightByInstance(key)),
    forwarder,
    invocations,
    async close() {
      unsubscribe();
      await forwarder.close();
    },
  };
}
