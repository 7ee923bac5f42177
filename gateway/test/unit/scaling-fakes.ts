// Fakes for the scaling unit tests: a Provider whose functions become ready
// some virtual milliseconds after a scale, a FunctionView over it, a virtual
// clock, and a logger that keeps its lines.
import { Writable } from 'node:stream';
import Router from '@koa/router';
import Koa from 'koa';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { errorHandler } from '../../src/http/errors.js';
import { GatewayMetrics } from '../../src/metrics.js';
import { ProviderError, type FunctionStatus, type FunctionView, type Provider } from '../../src/provider/types.js';
import type { Clock } from '../../src/scaling/clock.js';
import { AutoScaler } from '../../src/scaling/index.js';
import { status as functionStatus } from './support/fake-provider.js';

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

interface FakeService {
  status: FunctionStatus;
  isFunction: boolean;
  /** Virtual time at which the tasks of the last scale are ready. */
  readyAt: number;
}

export class FakeProvider implements Provider {
  readonly services = new Map<string, FakeService>();
  readonly scaleCalls: Array<{ name: string; replicas: number }> = [];
  /** Milliseconds (virtual) from a scale to its tasks being healthy. */
  startupMs = 1200;
  /** Names whose scale() fails. */
  failing = new Set<string>();

  constructor(private readonly clock: FakeClock) {}

  add(name: string, options: { replicas?: number; labels?: Record<string, string>; isFunction?: boolean } = {}): void {
    const replicas = options.replicas ?? 1;
    this.services.set(name, {
      isFunction: options.isFunction ?? true,
      readyAt: 0,
      status: functionStatus(name, {
        image: `swarmfaas/${name}:0.1.0`,
        replicas,
        availableReplicas: replicas,
        labels: { function: 'true', ...options.labels },
      }),
    });
  }

  replicas(name: string): number | undefined {
    return this.services.get(name)?.status.replicas;
  }

  private current(name: string): FunctionStatus | undefined {
    const service = this.services.get(name);
    if (!service?.isFunction) return undefined;
    const ready = this.clock.now() >= service.readyAt;
    const { status } = service;
    // Removed tasks go at once; added tasks become available startupMs after the scale.
    status.availableReplicas = ready ? status.replicas : Math.min(status.availableReplicas, status.replicas);
    return structuredClone(status);
  }

  async list(): Promise<FunctionStatus[]> {
    return [...this.services.keys()].map((n) => this.current(n)).filter((s): s is FunctionStatus => s !== undefined);
  }
  async get(name: string): Promise<FunctionStatus | undefined> {
    return this.current(name);
  }
  async deploy(): Promise<void> {
    throw new Error('not used');
  }
  async update(): Promise<void> {
    throw new Error('not used');
  }
  async remove(name: string): Promise<void> {
    this.services.delete(name);
  }
  async scale(name: string, replicas: number): Promise<void> {
    const service = this.services.get(name);
    if (!service?.isFunction) throw new ProviderError('not-found', `function ${name} not found`);
    if (this.failing.has(name)) throw new ProviderError('unavailable', `docker refused to scale ${name}`);
    this.scaleCalls.push({ name, replicas });
    if (replicas > service.status.replicas) service.readyAt = this.clock.now() + this.startupMs;
    service.status.replicas = replicas;
  }
  logs(): AsyncIterable<never> {
    throw new Error('not used');
  }
  /** What startingEndpoints() answers, by function (tasks starting or running, ready or not). */
  readonly starting = new Map<string, string[]>();
  async startingEndpoints(name: string): Promise<string[]> {
    return this.starting.get(name) ?? [];
  }
  async endpoints(name: string): Promise<string[]> {
    const status = this.current(name);
    return status ? Array.from({ length: status.availableReplicas }, (_, i) => `10.0.1.${i + 10}:8080`) : [];
  }
  watch(): () => void {
    return () => {};
  }
}

/** A FunctionView that reads through to the fake provider on refresh and list. */
export class FakeView implements FunctionView {
  private readonly cache = new Map<string, FunctionStatus>();
  private readonly listeners = new Set<(name: string, status: FunctionStatus | undefined) => void>();
  refreshes = 0;

  constructor(private readonly provider: FakeProvider) {}

  async sync(): Promise<void> {
    this.cache.clear();
    for (const status of await this.provider.list()) this.cache.set(status.name, status);
  }
  get(name: string): FunctionStatus | undefined {
    return this.cache.get(name);
  }
  list(): FunctionStatus[] {
    return [...this.cache.values()];
  }
  async readAll(): Promise<FunctionStatus[]> {
    await this.sync();
    return this.list();
  }
  async refresh(name: string): Promise<FunctionStatus | undefined> {
    this.refreshes++;
    const status = await this.provider.get(name);
    if (status) this.cache.set(name, status);
    else this.cache.delete(name);
    for (const listener of this.listeners) listener(name, status);
    return status;
  }
  onChange(listener: (name: string, status: FunctionStatus | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
  view: FakeView;
  scaler: AutoScaler;
  /** The gateway's metrics the scaler reports its replica changes to. */
  metrics: GatewayMetrics;
  lines: LogLine[];
  /** Sends a request to the scaler's routes (through Koa, as the gateway would). */
  post(path: string, body: unknown): Promise<{ status: number; text: string; json: () => unknown }>;
  close(): Promise<void>;
}

export async function harness(
  setup: (provider: FakeProvider) => void,
  env: Record<string, string> = {},
  options: { probe?: (address: string, clock: FakeClock) => Promise<boolean> } = {},
): Promise<Harness> {
  const clock = new FakeClock();
  const provider = new FakeProvider(clock);
  setup(provider);
  const view = new FakeView(provider);
  await view.sync();
  const { log, lines } = capturingLogger();
  const probe = options.probe;
  const metrics = new GatewayMetrics(view, { processMetrics: false });
  const scaler = new AutoScaler({
    events: metrics,
    config: testConfig(env),
    provider,
    functions: view,
    log,
    clock,
    // No real network in unit tests: a task is asked through the test's probe, or never answers.
    probe: probe ? (address) => probe(address, clock) : async () => false,
  });

  const app = new Koa();
  app.silent = true;
  app.use(errorHandler(log));
  const router = new Router();
  scaler.routes(router);
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as { port: number };

  return {
    clock,
    provider,
    view,
    scaler,
    metrics,
    lines,
    async post(path, body) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: () => JSON.parse(text) as unknown };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
