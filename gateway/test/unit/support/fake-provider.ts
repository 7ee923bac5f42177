// An in-memory Provider for unit tests: functions are plain records, and
// endpoints point at HTTP servers the test starts on 127.0.0.1.
import type { FunctionDeployment, FunctionStatus, FunctionView, LogEntry, LogQuery, Provider } from '../../../src/provider/types.js';
import { ProviderError } from '../../../src/provider/types.js';

export function status(name: string, extra: Partial<FunctionStatus> = {}): FunctionStatus {
  return {
    name,
    image: 'example/fn:1',
    replicas: 1,
    availableReplicas: 1,
    envProcess: 'cat',
    envVars: {},
    labels: { function: 'true' },
    annotations: {},
    constraints: [],
    secrets: [],
    ...extra,
  };
}

export class FakeProvider implements Provider {
  readonly functions = new Map<string, FunctionStatus>();
  readonly addresses = new Map<string, string[]>();
  readonly calls: string[] = [];
  logEntries: LogEntry[] = [];
  /** Milliseconds before the first log entry comes (a quiet followed stream). */
  logDelayMs = 0;
  /** When set, list() fails as an engine that does not answer would. */
  unavailable: string | undefined;
  listCalls = 0;

  async list() {
    this.listCalls++;
    if (this.unavailable) throw new ProviderError('unavailable', this.unavailable);
    return [...this.functions.values()];
  }
  async get(name: string) {
    return this.functions.get(name);
  }
  async deploy(spec: FunctionDeployment) {
    this.calls.push(`deploy ${spec.service}`);
    if (this.functions.has(spec.service)) throw new ProviderError('conflict', `a service named ${spec.service} already exists`);
    this.functions.set(spec.service, status(spec.service, { image: spec.image, envProcess: spec.envProcess ?? '' }));
  }
  async update(spec: FunctionDeployment) {
    this.calls.push(`update ${spec.service}`);
    const current = this.functions.get(spec.service);
    if (!current) throw new ProviderError('not-found', `function ${spec.service} not found`);
    this.functions.set(spec.service, { ...current, image: spec.image });
  }
  async remove(name: string) {
    this.calls.push(`remove ${name}`);
    if (!this.functions.delete(name)) throw new ProviderError('not-found', `function ${name} not found`);
  }
  async scale(name: string, replicas: number) {
    const current = this.functions.get(name);
    if (!current) throw new ProviderError('not-found', `function ${name} not found`);
    this.functions.set(name, { ...current, replicas });
  }
  async *logs(query: LogQuery): AsyncIterable<LogEntry> {
    if (!this.functions.has(query.name)) throw new ProviderError('not-found', `function ${query.name} not found`);
    if (this.logDelayMs) await new Promise((r) => setTimeout(r, this.logDelayMs));
    for (const entry of this.logEntries) yield entry;
  }
  async endpoints(name: string) {
    return this.addresses.get(name) ?? [];
  }
  watch() {
    return () => {};
  }
}

/** A FunctionView that reads straight from the fake provider. */
export class DirectView implements FunctionView {
  constructor(private readonly provider: FakeProvider) {}
  get(name: string) {
    return this.provider.functions.get(name);
  }
  list() {
    return [...this.provider.functions.values()];
  }
  readAll() {
    return this.provider.list();
  }
  async refresh(name: string) {
    return this.provider.functions.get(name);
  }
  onChange() {
    return () => {};
  }
}
