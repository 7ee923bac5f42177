// The orchestration boundary. Handlers talk only to this interface; the Swarm
// implementation (dockerode) lives beside it. A Kubernetes provider would
// implement the same interface and no handler would change.

/** One function as the API shows it (OpenFaaS field names). */
export interface FunctionStatus {
  name: string;
  image: string;
  /** Desired replicas (Swarm's Spec.Mode.Replicated.Replicas). */
  replicas: number;
  /** Tasks running and healthy. */
  availableReplicas: number;
  envProcess: string;
  envVars: Record<string, string>;
  /** Service labels merged with container labels (service labels win). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  constraints: string[];
  secrets: string[];
  createdAt?: string;
}

export interface ResourceLimits {
  /** e.g. "128m", "1g" */
  memory?: string;
  /** CPUs as a decimal string, e.g. "0.5" */
  cpu?: string;
}

/** Body of POST/PUT /system/functions (OpenFaaS field names). */
export interface FunctionDeployment {
  service: string;
  image: string;
  envProcess?: string;
  network?: string;
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  registryAuth?: string;
  limits?: ResourceLimits;
  requests?: ResourceLimits;
  readOnlyRootFilesystem?: boolean;
}

export interface LogQuery {
  name: string;
  /** RFC 3339 time or undefined */
  since?: Date;
  tail?: number;
  follow: boolean;
}

export interface LogEntry {
  name: string;
  instance: string;
  timestamp: string;
  text: string;
}

/** Raised by providers; handlers map `kind` to an HTTP status. */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface Provider {
  /** Every service that is a function (label function=true), and only those. */
  list(): Promise<FunctionStatus[]>;
  /** undefined when there is no such function (or the service is not a function). */
  get(name: string): Promise<FunctionStatus | undefined>;
  deploy(spec: FunctionDeployment): Promise<void>;
  /** Rolling update; keeps the current replica count. */
  update(spec: FunctionDeployment): Promise<void>;
  remove(name: string): Promise<void>;
  scale(name: string, replicas: number): Promise<void>;
  logs(query: LogQuery, signal: AbortSignal): AsyncIterable<LogEntry>;
  /** Addresses (host:port) of the function's running tasks, for direct routing. */
  endpoints(name: string): Promise<string[]>;
  /**
   * Addresses (host:port) of the function's tasks that are starting or
   * running, ready or not (tasks being removed excluded), for a caller that
   * checks readiness itself: waking from zero probes these instead of waiting
   * for the orchestrator's health check. Never used for normal routing.
   * Optional: a provider without it wakes through endpoints() alone.
   */
  startingEndpoints?(name: string): Promise<string[]>;
  /** Calls onChange with a function name whenever Docker reports a change to it. Returns a stop function. */
  watch(onChange: (name: string) => void): () => void;
}

/**
 * The gateway's in-memory view of the functions, kept current from Docker's
 * event stream and a periodic resync, so that no Docker API call is made per
 * invocation.
 */
export interface FunctionView {
  get(name: string): FunctionStatus | undefined;
  list(): FunctionStatus[];
  /** Re-reads every function from the provider now and returns them; throws (ProviderError) when it cannot answer. */
  readAll(): Promise<FunctionStatus[]>;
  /** Re-reads one function from the provider now (after a change the gateway made itself). */
  refresh(name: string): Promise<FunctionStatus | undefined>;
  /** Called with the new status (undefined when removed) whenever a function changes. Returns an unsubscribe function. */
  onChange(listener: (name: string, status: FunctionStatus | undefined) => void): () => void;
}
