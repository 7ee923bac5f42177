// What every program knows about a function: its name, its status as the API
// shows it, its instances and where invocations go. The gateway reads it from
// the orchestrator (provider/); the queue worker and the connector receive it
// from the gateways (queue/function-catalog.ts).

/** A function is named within a namespace; the pair is unique. */
export interface FunctionRef {
  name: string;
  namespace: string;
}

export interface ResourceLimits {
  /** As the caller wrote it: "128Mi", "128m", "1G", "134217728". */
  memory?: string;
  /** As the caller wrote it: "100m" (millicores), "0.5", "2". */
  cpu?: string;
}

/** One function as the API shows it (OpenFaaS field names). */
export interface FunctionStatus extends FunctionRef {
  image: string;
  /** Instances wanted. */
  replicas: number;
  /** Instances running and ready for traffic. */
  availableReplicas: number;
  envProcess: string;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  constraints: string[];
  secrets: string[];
  limits?: ResourceLimits;
  requests?: ResourceLimits;
  readOnlyRootFilesystem: boolean;
  createdAt?: string;
  /** Why fewer instances run than wanted, in the orchestrator's words (e.g. the image cannot be pulled). */
  unavailableReason?: string;
}

/** One instance (a task, a container) of a function. */
export interface FunctionInstance {
  id: string;
  /** The machine it runs on, as the orchestrator names it. */
  node: string;
  /** The orchestrator's state of it ("running", "starting", "failed", ...). */
  state: string;
  /** Receives invocations. */
  ready: boolean;
  /** When it entered its state (RFC 3339). */
  since?: string;
  /** The orchestrator's error, when it failed or could not start. */
  error?: string;
  /** host:port invocations reach it at, when it has one. */
  address?: string;
}

/**
 * Everything the gateway keeps about one function between reads: its status,
 * its instances, and where invocations go.
 */
export interface FunctionEntry {
  status: FunctionStatus;
  instances: FunctionInstance[];
  /** host:port of every instance ready for traffic (or of the one address that balances over them itself). */
  endpoints: string[];
  /** host:port of instances starting or running, ready or not: waking probes these itself. */
  starting: string[];
  /**
   * What the gateway keeps with the function in the orchestrator (when it
   * last stepped up, the alerts that did it), so that every gateway of a
   * cluster reads the same: written by scale(), never shown by the API.
   */
  state: Record<string, string>;
}

/** "name.namespace": how the gateway keys a function internally. */
export function keyOf(ref: FunctionRef): string {
  return `${ref.name}.${ref.namespace}`;
}
