// Turns a FunctionDeployment (the API's JSON, validated) into a Swarm
// ServiceSpec and a service back into a FunctionStatus. Pure functions: no
// engine calls, so they are unit-tested directly.
import type Dockerode from 'dockerode';
import { formatCpu, formatMemory, memoryBytes, nanoCpus } from '../../api/quantities.js';
import type { Confinement, FunctionDeployment, FunctionRef, FunctionStatus, ResourceLimits } from '../types.js';

/** Without a confinement in the deployment: what a function task gets. */
const DEFAULT_CONFINEMENT: Confinement = { dropCapabilities: false, pidsLimit: 256, tmpBytes: 64 * 1024 * 1024 };

/** The label (service or container) that marks a service as a function: function=true (the 2017 contract). */
export const FUNCTION_MARKER_LABEL = 'function';
/** OpenFaaS on Swarm keeps annotations as labels with this prefix. */
export const ANNOTATION_PREFIX = 'com.openfaas.annotations.';
/** Labels the gateway keeps for itself on a function's service; never shown as the function's labels. */
export const INTERNAL_PREFIX = 'com.swarmfaas.';
export const NAMESPACE_LABEL = `${INTERNAL_PREFIX}namespace`;
export const NAME_LABEL = `${INTERNAL_PREFIX}function`;
/** The gateway's state kept with a function (ScaleOptions.state). */
const STATE_PREFIX = `${INTERNAL_PREFIX}state.`;
/** The limits and requests as the caller wrote them ("128Mi"), so GET answers them unchanged. */
const RESOURCE_LABEL = (kind: 'limits' | 'requests', what: 'memory' | 'cpu') => `${INTERNAL_PREFIX}${kind}.${what}`;

/** A service as the engine API lists and inspects it (the fields used here). */
export interface ServiceInfo {
  ID: string;
  Spec?: Dockerode.ServiceSpec;
  Version?: { Index?: number };
  CreatedAt?: string;
}

export interface SpecContext {
  /** Network ID or name the function joins. */
  network: string;
  /** dnsrr where the routing mesh (IPVS) is missing, vip otherwise: how functions reach each other by name. */
  endpointMode: 'dnsrr' | 'vip';
  /** The secrets the function mounts, already looked up (their latest generation). */
  secrets: ReadonlyArray<{ name: string; id: string; swarmName: string }>;
  /** Replicas to keep (update) or start with (deploy). */
  replicas: number;
  /** The namespace whose functions keep their plain name as service name. */
  defaultNamespace: string;
}

/**
 * The Swarm service name of a function: its own name in the default
 * namespace (so the 2017 stack's func_echoit stays func_echoit), and
 * "<namespace>--<name>" in the others (Swarm refuses dots in service
 * names). The labels, not the name, say which function a service is; a
 * default-namespace function that happens to have such a name is refused
 * as a name already taken.
 */
export function serviceNameOf(ref: FunctionRef, defaultNamespace: string): string {
  return ref.namespace === defaultNamespace ? ref.name : `${ref.namespace}--${ref.name}`;
}

export function isFunctionService(service: ServiceInfo): boolean {
  const spec = service.Spec;
  const containerLabels = containerSpecOf(spec)?.Labels ?? {};
  return spec?.Labels?.[FUNCTION_MARKER_LABEL] === 'true' || containerLabels[FUNCTION_MARKER_LABEL] === 'true';
}

export function containerSpecOf(spec: Dockerode.ServiceSpec | undefined): Dockerode.ContainerSpec | undefined {
  const template = spec?.TaskTemplate as Dockerode.ContainerTaskSpec | undefined;
  return template?.ContainerSpec;
}

/** The network IDs or names a service's tasks join. */
export function networksOf(service: ServiceInfo): string[] {
  const template = service.Spec?.TaskTemplate as Dockerode.ContainerTaskSpec | undefined;
  return (template?.Networks ?? []).map((n) => n.Target ?? '').filter(Boolean);
}

export function buildServiceSpec(deployment: FunctionDeployment, context: SpecContext): Dockerode.ServiceSpec {
  const userLabels = { ...(deployment.labels ?? {}) };
  const annotationLabels = Object.fromEntries(
    Object.entries(deployment.annotations ?? {}).map(([key, value]) => [ANNOTATION_PREFIX + key, value]),
  );
  const internal: Record<string, string> = {};
  if (deployment.namespace !== context.defaultNamespace) {
    internal[NAMESPACE_LABEL] = deployment.namespace;
    internal[NAME_LABEL] = deployment.service;
  }
  for (const kind of ['limits', 'requests'] as const) {
    for (const what of ['memory', 'cpu'] as const) {
      const value = deployment[kind]?.[what];
      if (value) internal[RESOURCE_LABEL(kind, what)] = value;
    }
  }
  // Both places: stack files put function=true on the container, the API on the service.
  const serviceLabels = { ...userLabels, ...annotationLabels, ...internal, [FUNCTION_MARKER_LABEL]: 'true' };
  const containerLabels = { ...userLabels, [FUNCTION_MARKER_LABEL]: 'true' };

  const env = Object.entries(deployment.envVars ?? {}).map(([key, value]) => `${key}=${value}`);
  if (deployment.envProcess) env.push(`fprocess=${deployment.envProcess}`);

  const confinement = deployment.confinement ?? DEFAULT_CONFINEMENT;
  const resources: Dockerode.ResourceRequirements = {};
  // Always a process limit (engine API 1.41+): a function that forks without
  // end fails to fork instead of exhausting the node's PIDs.
  resources.Limits = { ...engineResources(deployment.limits), Pids: confinement.pidsLimit } as NonNullable<Dockerode.ResourceRequirements['Limits']>;
  const reservations = engineResources(deployment.requests);
  if (Object.keys(reservations).length > 0) resources.Reservations = reservations;

  const secrets = context.secrets.flatMap((secret) => secretMounts(secret));

  return {
    Name: serviceNameOf({ name: deployment.service, namespace: deployment.namespace }, context.defaultNamespace),
    Labels: serviceLabels,
    TaskTemplate: {
      ContainerSpec: {
        Image: deployment.image,
        Labels: containerLabels,
        Env: env,
        Secrets: secrets,
        ReadOnly: deployment.readOnlyRootFilesystem ?? false,
        ...(confinement.user ? { User: confinement.user } : {}),
        // Engine API 1.41 (Docker 20.10): the task runs with no Linux capability at all.
        ...(confinement.dropCapabilities ? { CapabilityDrop: ['ALL'] } : {}),
        // A read-only root still needs a writable /tmp: the watchdog's readiness
        // lock and its spill file for large outputs live there. Bounded, since
        // tmpfs pages count against the task's memory.
        ...(deployment.readOnlyRootFilesystem
          ? { Mounts: [{ Type: 'tmpfs' as const, Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: confinement.tmpBytes, Mode: 0o1777 } }] }
          : {}),
      },
      Resources: resources,
      // A task that ended, crashed or not, is replaced after 1 s (Swarm's default 5 s held calls that long;
      // on-failure left a task that a SIGTERM from outside stopped cleanly never replaced).
      RestartPolicy: { Condition: 'any', Delay: 1e9, MaxAttempts: 0 },
      Placement: { Constraints: deployment.constraints ?? [] },
      Networks: [{ Target: context.network }],
    },
    Mode: { Replicated: { Replicas: context.replicas } },
    // start-first: the new task is up (healthy) before the old one stops, so an update has no gap.
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback', Monitor: 5e9 },
    RollbackConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'pause' },
    EndpointSpec: { Mode: context.endpointMode },
  };
}

/** Where a function reads a secret: /run/secrets/<name> (Swarm's place) and /var/openfaas/secrets/<name> (OpenFaaS's). */
export function secretMounts(secret: { name: string; id: string; swarmName: string }): Dockerode.SecretReference[] {
  return [secret.name, `/var/openfaas/secrets/${secret.name}`].map((target) => ({
    SecretName: secret.swarmName,
    SecretID: secret.id,
    File: { Name: target, UID: '0', GID: '0', Mode: 0o444 },
  }));
}

/** Memory and CPU as the engine wants them (validation has checked the text). */
function engineResources(amounts: ResourceLimits | undefined): { MemoryBytes?: number; NanoCPUs?: number } {
  const memory = amounts?.memory ? memoryBytes(amounts.memory) : undefined;
  const cpu = amounts?.cpu ? nanoCpus(amounts.cpu) : undefined;
  return { ...(memory !== undefined ? { MemoryBytes: memory } : {}), ...(cpu !== undefined ? { NanoCPUs: cpu } : {}) };
}

/** The function a service is, by its labels and name. */
export function refOf(service: ServiceInfo, defaultNamespace: string): FunctionRef {
  const labels = service.Spec?.Labels ?? {};
  const serviceName = service.Spec?.Name ?? service.ID;
  const namespace = labels[NAMESPACE_LABEL];
  if (!namespace || namespace === defaultNamespace) return { name: serviceName, namespace: defaultNamespace };
  return { name: labels[NAME_LABEL] ?? serviceName.slice(serviceName.indexOf('--') + 2), namespace };
}

/** Reads a service as the API shows a function; availableReplicas comes from its tasks. */
export function toFunctionStatus(service: ServiceInfo, availableReplicas: number, defaultNamespace: string): FunctionStatus {
  const spec = service.Spec ?? {};
  const container = containerSpecOf(spec) ?? {};
  const serviceLabels = spec.Labels ?? {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...(container.Labels ?? {}), ...serviceLabels })) {
    if (key.startsWith(ANNOTATION_PREFIX)) annotations[key.slice(ANNOTATION_PREFIX.length)] = value;
    else if (!key.startsWith(INTERNAL_PREFIX)) labels[key] = value;
  }
  const envVars: Record<string, string> = {};
  let envProcess = '';
  for (const entry of container.Env ?? []) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    if (key === 'fprocess') envProcess = value;
    else envVars[key] = value;
  }
  const template = spec.TaskTemplate as Dockerode.ContainerTaskSpec | undefined;
  const limits = resourcesOf('limits', serviceLabels, template?.Resources?.Limits);
  const requests = resourcesOf('requests', serviceLabels, template?.Resources?.Reservations);
  return {
    ...refOf(service, defaultNamespace),
    // Swarm pins the digest (image:tag@sha256:...) when it could resolve one; show what the user asked for.
    image: (container.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
    replicas: spec.Mode?.Replicated?.Replicas ?? 0,
    availableReplicas,
    envProcess,
    envVars,
    labels,
    annotations,
    constraints: template?.Placement?.Constraints ?? [],
    // The names the function reads them by (the target under /run/secrets), once each.
    secrets: [...new Set((container.Secrets ?? []).map((s) => s.File?.Name ?? s.SecretName ?? '').filter((n) => n && !n.startsWith('/')))],
    ...(limits ? { limits } : {}),
    ...(requests ? { requests } : {}),
    readOnlyRootFilesystem: container.ReadOnly ?? false,
    ...(service.CreatedAt ? { createdAt: service.CreatedAt } : {}),
  };
}

export function stateLabels(state: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(state ?? {}).map(([key, value]) => [STATE_PREFIX + key, value]));
}

export function stateOf(service: ServiceInfo): Record<string, string> {
  const state: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.Spec?.Labels ?? {})) if (key.startsWith(STATE_PREFIX)) state[key.slice(STATE_PREFIX.length)] = value;
  return state;
}

/** What a deploy set, unchanged (from the labels); else what the engine holds (a stack file's resources). */
function resourcesOf(
  kind: 'limits' | 'requests',
  labels: Record<string, string>,
  engine: { MemoryBytes?: number; NanoCPUs?: number } | undefined,
): ResourceLimits | undefined {
  const memory = labels[RESOURCE_LABEL(kind, 'memory')] ?? (engine?.MemoryBytes ? formatMemory(engine.MemoryBytes) : undefined);
  const cpu = labels[RESOURCE_LABEL(kind, 'cpu')] ?? (engine?.NanoCPUs ? formatCpu(engine.NanoCPUs) : undefined);
  if (memory === undefined && cpu === undefined) return undefined;
  return { ...(memory !== undefined ? { memory } : {}), ...(cpu !== undefined ? { cpu } : {}) };
}
