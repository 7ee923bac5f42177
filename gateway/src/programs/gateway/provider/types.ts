// The orchestration boundary. The gateway (routes, upstream, scaling) talks
// only to this interface and never knows which orchestrator fills it in:
// the Swarm implementation lives in ./swarm/, and another one (Nomad, a
// containerd host, Kubernetes) would be one more folder beside it, chosen in
// ./index.ts. Nothing here names an engine, a network or an HTTP route.

import type { FunctionEntry, FunctionRef, ResourceLimits } from '../../../core/functions/types.js';

// The data the orchestrator fills in (FunctionRef, FunctionStatus, FunctionEntry...) is the
// shared runtime's (core/functions/types.ts): every program reads it, only this one writes it.
export type { FunctionEntry, FunctionInstance, FunctionRef, FunctionStatus, ResourceLimits } from '../../../core/functions/types.js';
export { keyOf } from '../../../core/functions/types.js';

export interface ScaleOptions {
  /** Only if the function still wants this many replicas: otherwise a 'conflict' ProviderError, and nothing changes. */
  ifReplicas?: number;
  /** Gateway state to store with the function in the same change (merged into what is there). */
  state?: Record<string, string>;
}

/** Body of a deploy or update, validated (OpenFaaS field names; `service` is the name). */
export interface FunctionDeployment {
  service: string;
  namespace: string;
  image: string;
  envProcess?: string;
  network?: string;
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  /** OpenFaaS registryAuth, decoded. */
  registryAuth?: { username: string; password: string };
  limits?: ResourceLimits;
  requests?: ResourceLimits;
  readOnlyRootFilesystem?: boolean;
  /** Replicas a new function starts with (deploy only; an update keeps the current count). */
  replicas?: number;
  /** How the function's processes are confined (the gateway fills it in from its settings). */
  confinement?: Confinement;
}

/** Limits on what a function's processes may do, beyond memory and CPU. */
export interface Confinement {
  /** The user (uid[:gid]) its processes run as; undefined: the image's own. */
  user?: string;
  /** Drop every Linux capability. */
  dropCapabilities: boolean;
  /** Processes (and threads) at once. */
  pidsLimit: number;
  /** Bytes of the writable /tmp a read-only root gets. */
  tmpBytes: number;
}

export interface LogQuery extends FunctionRef {
  since?: Date;
  tail?: number;
  follow: boolean;
}

export interface LogEntry {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

/** Raised by providers; the gateway maps `kind` to an HTTP status. */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** What /system/info reports about the orchestrator. */
export interface ProviderInfo {
  provider: string;
  orchestration: string;
}

/** A rule a value must follow, and what to tell a caller who broke it. */
export interface Rule {
  pattern: RegExp;
  message: string;
}

/** The orchestrator's own naming and syntax rules, which request validation applies. */
export interface ProviderRules {
  /** A name for a new function. */
  newFunctionName: Rule;
  /** A name that may belong to an existing function (older, laxer rules). */
  functionName: Rule;
  /** One placement constraint. */
  constraint: Rule;
  /**
   * Names a new function may not have: those of the stack's own services,
   * which other parts find by name (a function named "gateway" would answer
   * for it on a shared network).
   */
  reservedNames: ReadonlySet<string>;
}

/** A namespace: its own network of functions, isolated from the others. */
export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A secret as listed: never its value. */
export interface SecretRef {
  name: string;
  namespace: string;
}

export interface SecretValue extends SecretRef {
  value: Buffer;
}

/** Receives complete snapshots: every function the provider manages, after each change it sees. */
export type SnapshotListener = (entries: FunctionEntry[]) => void;

export interface Provider {
  readonly info: ProviderInfo;
  readonly rules: ProviderRules;
  /** Every function, read now. */
  list(): Promise<FunctionEntry[]>;
  /** One function, read now; undefined when there is none. */
  get(ref: FunctionRef): Promise<FunctionEntry | undefined>;
  deploy(deployment: FunctionDeployment): Promise<void>;
  /** Rolling update; keeps the current replica count. */
  update(deployment: FunctionDeployment): Promise<void>;
  remove(ref: FunctionRef): Promise<void>;
  /** Sets the replicas (and the gateway's state) in one change; see ScaleOptions for the compare-and-set. */
  scale(ref: FunctionRef, replicas: number, options?: ScaleOptions): Promise<void>;
  logs(query: LogQuery, signal: AbortSignal): AsyncIterable<LogEntry>;

  /** Every namespace, the default one first. */
  listNamespaces(): Promise<NamespaceInfo[]>;
  /** 'conflict' when it exists. */
  createNamespace(namespace: NamespaceInfo): Promise<void>;
  /** Changes labels and annotations; 'not-found' when there is none. */
  updateNamespace(namespace: NamespaceInfo): Promise<void>;
  /** 'conflict' (naming them) while it holds functions, or for the default namespace. */
  deleteNamespace(name: string): Promise<void>;

  /** The secrets functions of a namespace may use (names only). */
  listSecrets(namespace: string): Promise<SecretRef[]>;
  /** 'conflict' when it exists. */
  createSecret(secret: SecretValue): Promise<void>;
  /** A new value; every function using the secret is rolled onto it (no gap). 'not-found' when there is none. */
  updateSecret(secret: SecretValue): Promise<void>;
  /** 'conflict' (naming them) while functions use it. */
  deleteSecret(secret: SecretRef): Promise<void>;

  /**
   * List and watch: calls the listener with a complete snapshot at start,
   * after each change the provider notices and after every reconnect to the
   * orchestrator (a change made while disconnected is never missed), under
   * retry with backoff. Returns a stop function.
   */
  watch(listener: SnapshotListener): () => void;
}
