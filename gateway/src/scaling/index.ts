// PLACEHOLDER, to be replaced by the scaling work: alert-driven scaling,
// manual scaling, scale to zero and wake-up. The gateway core depends only on
// the Scaler interface below.
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { FunctionView, Provider } from '../provider/types.js';

export interface ScalerDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  log: Logger;
}

export class WakeTimeoutError extends Error {}

export interface Scaler {
  /** Registers POST /system/alert and POST /system/scale-function/:name. */
  routes(router: Router): void;
  /**
   * The proxy calls this before forwarding when the function has no available
   * replica. Resolves once one is ready (waking a function scaled to zero);
   * rejects with WakeTimeoutError after WAKE_TIMEOUT.
   */
  ensureAvailable(name: string, signal?: AbortSignal): Promise<void>;
  /** The proxy calls this on every invocation (idle detection for scale to zero). */
  recordInvocation(name: string): void;
  start(): void;
  stop(): void;
}

export function createScaler(deps: ScalerDeps): Scaler {
  return {
    routes() {},
    async ensureAvailable(name) {
      throw new WakeTimeoutError(`function ${name} has no available replica`);
    },
    recordInvocation() {},
    start() {},
    stop() {},
  };
  void deps;
}
