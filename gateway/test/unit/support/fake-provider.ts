// The one in-memory Provider of the unit tests. Functions are plain records
// kept in maps the tests change directly; every change (and every scale)
// pushes a new snapshot to the watchers, as a real provider's list-and-watch
// would. Addresses point at HTTP servers a test starts on 127.0.0.1, or are
// made up (10.0.1.x) from the available replicas. With a clock, a scale up
// becomes available `startupMs` (virtual) milliseconds later.
import { swarmRules } from '../../../src/programs/gateway/provider/swarm/rules.js';
import {
  ProviderError,
  type FunctionDeployment,
  type FunctionEntry,
  type FunctionRef,
  type FunctionStatus,
  type LogEntry,
  type LogQuery,
  type NamespaceInfo,
  type Provider,
  type ScaleOptions,
  type SecretRef,
  type SecretValue,
  type SnapshotListener,
} from '../../../src/programs/gateway/provider/types.js';

export const DEFAULT_NAMESPACE = 'openfaas-fn';

/** A function in the default namespace (or `name.namespace`), as a test writes it. */
export function ref(name: string): FunctionRef {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? { name: name.slice(0, dot), namespace: name.slice(dot + 1) } : { name, namespace: DEFAULT_NAMESPACE };
}

export function status(name: string, extra: Partial<FunctionStatus> = {}): FunctionStatus {
  return {
    ...ref(name),
    image: 'example/fn:1',
    replicas: 1,
    availableReplicas: 1,
    envProcess: 'cat',
    envVars: {},
    labels: { function: 'true' },
    annotations: {},
    constraints: [],
    secrets: [],
    readOnlyRootFilesystem: false,
    ...extra,
  };
}

/** A Map that tells its owner after every change. */
class WatchedMap<K, V> extends Map<K, V> {
  onChange: () => void = () => {};
  override set(key: K, value: V): this {
    super.set(key, value);
    this.onChange();
    return this;
  }
  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.onChange();
    return had;
  }
  override clear(): void {
    super.clear();
    this.onChange();
  }
}

export interface FakeClockLike {
  now(): number;
}

export class FakeProvider implements Provider {
  readonly info = { provider: 'fake', orchestration: 'fake' };
  readonly rules = swarmRules;
  /** Functions by name ("name" in the default namespace, "name.namespace" elsewhere). */
  readonly functions = new WatchedMap<string, FunctionStatus>();
  /** Ready addresses by function name; without an entry, one made-up address per available replica. */
  readonly addresses = new WatchedMap<string, string[]>();
  /** Addresses of starting or running instances (probed while waking). */
  readonly starting = new WatchedMap<string, string[]>();
  /** Services that exist but are not functions (scaling one is a not-found). */
  readonly notFunctions = new Set<string>();
  readonly state = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  readonly scaleCalls: Array<{ name: string; replicas: number }> = [];
  /** Names whose scale() fails as an engine outage would. */
  readonly failing = new Set<string>();
  logEntries: LogEntry[] = [];
  /** Milliseconds before the first log entry comes (a quiet followed stream). */
  logDelayMs = 0;
  /** When set, list() fails as an engine that does not answer would. */
  unavailable: string | undefined;
  listCalls = 0;
  getCalls = 0;
  /** Milliseconds (virtual) from a scale up to its instances being ready; needs a clock. */
  startupMs = 1200;
  private readonly readyAt = new Map<string, number>();
  private readonly listeners = new Set<SnapshotListener>();

  constructor(private readonly clock?: FakeClockLike) {
    const push = () => this.push();
    this.functions.onChange = push;
    this.addresses.onChange = push;
    this.starting.onChange = push;
  }

  /** Adds a function (scaling tests' shorthand). */
  add(name: string, options: { replicas?: number; labels?: Record<string, string>; annotations?: Record<string, string>; isFunction?: boolean } = {}): void {
    const replicas = options.replicas ?? 1;
    if (options.isFunction === false) this.notFunctions.add(name);
    this.functions.set(name, status(name, { image: `swarmfaas/${name}:0.1.0`, replicas, availableReplicas: replicas, labels: { function: 'true', ...options.labels }, annotations: options.annotations ?? {} }));
  }

  /** When (virtual time) the instances of the last scale up become ready. */
  setReadyAt(name: string, time: number): void {
    this.readyAt.set(name, time);
  }

  replicas(name: string): number | undefined {
    return this.functions.get(name)?.replicas;
  }

  /** The function's entry as a provider would build it now. */
  entryOf(name: string): FunctionEntry | undefined {
    const current = this.functions.get(name);
    if (!current || this.notFunctions.has(name)) return undefined;
    const status = structuredClone(current);
    if (this.clock) {
      // Removed instances go at once; added ones become ready startupMs after the scale.
      const ready = this.clock.now() >= (this.readyAt.get(name) ?? 0);
      status.availableReplicas = ready ? status.replicas : Math.min(status.availableReplicas, status.replicas);
      current.availableReplicas = status.availableReplicas;
    }
    const endpoints = this.addresses.get(name) ?? Array.from({ length: status.availableReplicas }, (_, i) => `10.0.1.${i + 10}:8080`);
    const instances = endpoints.map((address, i) => ({ id: `task-${i + 1}`, node: 'node-1', state: 'running', ready: true, address }));
    return { status, instances, endpoints: [...endpoints], starting: [...(this.starting.get(name) ?? [])], state: { ...(this.state.get(name) ?? {}) } };
  }

  private nameOf(fn: FunctionRef): string {
    return fn.namespace === DEFAULT_NAMESPACE ? fn.name : `${fn.name}.${fn.namespace}`;
  }

  private push(): void {
    if (this.listeners.size === 0) return;
    const entries = this.entries();
    for (const listener of this.listeners) listener(entries);
  }

  async list(): Promise<FunctionEntry[]> {
    this.listCalls++;
    if (this.unavailable) throw new ProviderError('unavailable', this.unavailable);
    return this.entries();
  }
  private entries(): FunctionEntry[] {
    return [...this.functions.keys()].map((n) => this.entryOf(n)).filter((e): e is FunctionEntry => e !== undefined);
  }
  async get(fn: FunctionRef): Promise<FunctionEntry | undefined> {
    this.getCalls++;
    return this.entryOf(this.nameOf(fn));
  }
  async deploy(spec: FunctionDeployment): Promise<void> {
    const name = this.nameOf({ name: spec.service, namespace: spec.namespace });
    this.calls.push(`deploy ${name}`);
    if (!this.namespaces.has(spec.namespace)) throw new ProviderError('invalid', `namespace: no namespace named ${spec.namespace}`);
    if (this.functions.has(name)) throw new ProviderError('conflict', `a service named ${name} already exists`);
    this.functions.set(
      name,
      status(name, {
        image: spec.image,
        envProcess: spec.envProcess ?? '',
        envVars: spec.envVars ?? {},
        replicas: spec.replicas ?? 1,
        availableReplicas: spec.replicas ?? 1,
        labels: { ...spec.labels, function: 'true' },
      }),
    );
  }
  async update(spec: FunctionDeployment): Promise<void> {
    const name = this.nameOf({ name: spec.service, namespace: spec.namespace });
    this.calls.push(`update ${name}`);
    const current = this.functions.get(name);
    if (!current) throw new ProviderError('not-found', `function ${spec.service} not found`);
    this.functions.set(name, { ...current, image: spec.image });
  }
  async remove(fn: FunctionRef): Promise<void> {
    const name = this.nameOf(fn);
    this.calls.push(`remove ${name}`);
    if (!this.functions.delete(name)) throw new ProviderError('not-found', `function ${fn.name} not found`);
  }
  async scale(fn: FunctionRef, replicas: number, options: ScaleOptions = {}): Promise<void> {
    const name = this.nameOf(fn);
    const current = this.functions.get(name);
    if (!current || this.notFunctions.has(name)) throw new ProviderError('not-found', `function ${fn.name} not found`);
    if (this.failing.has(name)) throw new ProviderError('unavailable', `docker refused to scale ${name}`);
    if (options.ifReplicas !== undefined && current.replicas !== options.ifReplicas) {
      throw new ProviderError('conflict', `function ${fn.name} has ${current.replicas} replicas now, not ${options.ifReplicas}`);
    }
    if (options.state) this.state.set(name, { ...this.state.get(name), ...options.state });
    if (current.replicas === replicas) return this.push();
    this.scaleCalls.push({ name, replicas });
    if (this.clock && replicas > current.replicas) this.readyAt.set(name, this.clock.now() + this.startupMs);
    const availableReplicas = this.clock ? Math.min(current.availableReplicas, replicas) : replicas;
    this.functions.set(name, { ...current, replicas, availableReplicas });
  }
  async *logs(query: LogQuery): AsyncIterable<LogEntry> {
    if (!this.functions.has(this.nameOf(query))) throw new ProviderError('not-found', `function ${query.name} not found`);
    if (this.logDelayMs) await new Promise((r) => setTimeout(r, this.logDelayMs));
    for (const entry of this.logEntries) yield entry;
  }
  /** Namespaces besides the default one, and secrets by "namespace/name". */
  readonly namespaces = new Map<string, NamespaceInfo>([[DEFAULT_NAMESPACE, { name: DEFAULT_NAMESPACE, labels: {}, annotations: {} }]]);
  readonly secrets = new Map<string, Buffer>();

  async listNamespaces(): Promise<NamespaceInfo[]> {
    return [...this.namespaces.values()];
  }
  async createNamespace(namespace: NamespaceInfo): Promise<void> {
    if (this.namespaces.has(namespace.name)) throw new ProviderError('conflict', `namespace ${namespace.name} already exists`);
    this.calls.push(`create namespace ${namespace.name}`);
    this.namespaces.set(namespace.name, namespace);
  }
  async updateNamespace(namespace: NamespaceInfo): Promise<void> {
    if (!this.namespaces.has(namespace.name)) throw new ProviderError('not-found', `namespace ${namespace.name} not found`);
    this.namespaces.set(namespace.name, namespace);
  }
  async deleteNamespace(name: string): Promise<void> {
    if (name === DEFAULT_NAMESPACE) throw new ProviderError('conflict', `the default namespace ${name} cannot be deleted`);
    if (!this.namespaces.has(name)) throw new ProviderError('not-found', `namespace ${name} not found`);
    const inIt = [...this.functions.values()].filter((f) => f.namespace === name).map((f) => f.name);
    if (inIt.length > 0) throw new ProviderError('conflict', `namespace ${name} still holds functions: ${inIt.join(', ')}`);
    this.namespaces.delete(name);
  }
  async listSecrets(namespace: string): Promise<SecretRef[]> {
    if (!this.namespaces.has(namespace)) throw new ProviderError('not-found', `namespace ${namespace} not found`);
    return [...this.secrets.keys()].filter((k) => k.startsWith(`${namespace}/`)).map((k) => ({ name: k.slice(namespace.length + 1), namespace }));
  }
  async createSecret(secret: SecretValue): Promise<void> {
    const key = `${secret.namespace}/${secret.name}`;
    if (this.secrets.has(key)) throw new ProviderError('conflict', `secret ${secret.name} already exists in namespace ${secret.namespace}`);
    this.calls.push(`create secret ${key}`);
    this.secrets.set(key, secret.value);
  }
  async updateSecret(secret: SecretValue): Promise<void> {
    const key = `${secret.namespace}/${secret.name}`;
    if (!this.secrets.has(key)) throw new ProviderError('not-found', `secret ${secret.name} not found in namespace ${secret.namespace}`);
    this.secrets.set(key, secret.value);
  }
  async deleteSecret(secret: SecretRef): Promise<void> {
    const key = `${secret.namespace}/${secret.name}`;
    if (!this.secrets.delete(key)) throw new ProviderError('not-found', `secret ${secret.name} not found in namespace ${secret.namespace}`);
  }

  watch(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    this.push();
    return () => this.listeners.delete(listener);
  }
}
