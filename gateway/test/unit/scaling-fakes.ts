// What the scaling unit tests share: a virtual clock, a logger that keeps its
// lines, and a harness that runs the whole gateway (one wiring) over the fake
// provider, whose functions become ready some virtual milliseconds after a scale.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { afterEach } from 'vitest';
import { loadConfig, type Config } from '../../src/programs/gateway/settings.js';
import { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import type { GatewayMetrics } from '../../src/programs/gateway/metrics.js';
import type { Clock } from '../../src/programs/gateway/scaling/clock.js';
import type { InvocationHistory } from '../../src/programs/gateway/scaling/context.js';
import { AutoScaler, type ScalerDeps } from '../../src/programs/gateway/scaling/index.js';
import { FakeProvider } from './support/fake-provider.js';
import { startGateway } from './support/test-gateway.js';

export { FakeProvider } from './support/fake-provider.js';

/** Virtual time: sleep() moves the clock forward at once (after yielding to other tasks). */
export class FakeClock implements Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw signal.reason;
    this.time += ms;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface LogLine {
  level: number;
  msg: string;
  function?: string;
  [key: string]: unknown;
}

export function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ SCALE_COOLDOWN: '5s', ...env });
}

export interface Harness {
  clock: FakeClock;
  provider: FakeProvider;
  /** The gateway's live function view. */
  view: LiveFunctionView;
  /** The gateway's metrics the scaler reports its replica changes to. */
  metrics: GatewayMetrics;
  scaler: AutoScaler;
  lines: LogLine[];
  /** Sends a request to the gateway's /system routes. */
  post(path: string, body: unknown): Promise<{ status: number; text: string; json: () => unknown }>;
  close(): Promise<void>;
}

/** The whole gateway (one wiring) over the fake provider, with a virtual clock for the scaler. */
export async function harness(
  setup: (provider: FakeProvider) => void,
  env: Record<string, string> = {},
  options: { probe?: (address: string, clock: FakeClock) => Promise<boolean>; history?: InvocationHistory } = {},
): Promise<Harness> {
  const clock = new FakeClock();
  const provider = new FakeProvider(clock);
  setup(provider);
  const { log, lines } = capturingLogger();
  const probe = options.probe;
  const gw = await startGateway({
    env: { SCALE_COOLDOWN: '5s', ...env },
    provider,
    log,
    clock,
    // No real network in unit tests: a task is asked through the test's probe, or never answers.
    probe: probe ? (address) => probe(address, clock) : async () => false,
    ...(options.history ? { history: options.history } : {}),
  });
  return {
    clock,
    provider,
    view: gw.functions,
    metrics: gw.metrics,
    scaler: gw.scaler as AutoScaler,
    lines,
    async post(path, body) {
      const res = await fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: () => JSON.parse(text) as unknown };
    },
    close: () => gw.close(),
  };
}

/**
 * Gateways' scalers over one orchestrator (the fake provider), as the tests of
 * scaling across gateways run them: each its own view, stopped after each
 * test. Call it once per file; the answer starts one gateway, `deps` being
 * what its scaler reads beyond the view (the load board, the backlog).
 */
export function scalingGateways(): (
  provider: FakeProvider,
  clock: FakeClock,
  deps: Pick<ScalerDeps, 'loads' | 'queue'>,
  env?: Record<string, string>,
) => Promise<{ scaler: AutoScaler; view: LiveFunctionView }> {
  const open: Array<{ scaler: AutoScaler; view: LiveFunctionView }> = [];
  afterEach(() => {
    for (const g of open.splice(0)) {
      g.scaler.stop();
      g.view.stop();
    }
  });
  return async (provider, clock, deps, env = {}) => {
    const log = pino({ level: 'silent' });
    const view = new LiveFunctionView({ provider, log });
    await view.start();
    const scaler = new AutoScaler({ config: testConfig(env), provider, functions: view, log, clock, probe: async () => false, ...deps });
    open.push({ scaler, view });
    return { scaler, view };
  };
}
