// Turns a FunctionDeployment (the API's JSON) into a Swarm ServiceSpec and
// back. Pure functions: no Docker calls, so they are unit-tested directly.
import type Dockerode from 'dockerode';
import type { FunctionDeployment, FunctionStatus } from './types.js';
import { parseCpu, parseMemory } from '../validation.js';

/** Label that marks a service as a function (service or container label). */
/** Size of the tmpfs /tmp a function with a read-only root filesystem gets. */
export const READ_ONLY_TMP_BYTES = 64 * 1024 * 1024;
/** Processes (and threads) one function task may have at once. */
export const FUNCTION_PIDS_LIMIT = 256;

export const FUNCTION_LABEL = 'function';
/** OpenFaaS on Swarm keeps annotations as labels with this prefix. */
export const ANNOTATION_PREFIX = 'com.openfaas.annotations.';

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
  /** dnsrr where the routing mesh (IPVS) is missing, vip otherwise. */
  endpointMode: 'dnsrr' | 'vip';
  /** Secret name -> ID, already looked up. */
  secretIds: Map<string, string>;
  /** Replicas to keep (update) or start with (deploy). */
  replicas: number;
}

export function isFunctionService(service: ServiceInfo): boolean {
  const spec = service.Spec;
  const containerLabels = containerSpecOf(spec)?.Labels ?? {};
  return spec?.Labels?.[FUNCTION_LABEL] === 'true' || containerLabels[FUNCTION_LABEL] === 'true';
}

export function containerSpecOf(spec: Dockerode.ServiceSpec | undefined): Dockerode.ContainerSpec | undefined {
  const template = spec?.TaskTemplate as Dockerode.ContainerTaskSpec | undefined;
  return template?.ContainerSpec;
}

export function buildServiceSpec(deployment: FunctionDeployment, context: SpecContext): Dockerode.ServiceSpec {
  const userLabels = { ...(deployment.labels ?? {}) };
  const annotationLabels = Object.fromEntries(
    Object.entries(deployment.annotations ?? {}).map(([key, value]) => [ANNOTATION_PREFIX + key, value]),
  );
  // Both places: stack files put function=true on the container, the API on the service.
  const serviceLabels = { ...userLabels, ...annotationLabels, [FUNCTION_LABEL]: 'true' };
  const containerLabels = { ...userLabels, [FUNCTION_LABEL]: 'true' };

  const env = Object.entries(deployment.envVars ?? {}).map(([key, value]) => `${key}=${value}`);
  if (deployment.envProcess) env.push(`fprocess=${deployment.envProcess}`);

  const resources: Dockerode.ResourceRequirements = {};
  // Always a process limit (engine API 1.41+): a function that forks without
  // end fails to fork instead of exhausting the node's PIDs.
  resources.Limits = {
    ...(deployment.limits?.memory ? { MemoryBytes: parseMemory(deployment.limits.memory) } : {}),
    ...(deployment.limits?.cpu ? { NanoCPUs: parseCpu(deployment.limits.cpu) } : {}),
    Pids: FUNCTION_PIDS_LIMIT,
  } as NonNullable<Dockerode.ResourceRequirements['Limits']>;
  if (deployment.requests?.memory || deployment.requests?.cpu) {
    resources.Reservations = {
      ...(deployment.requests.memory ? { MemoryBytes: parseMemory(deployment.requests.memory) } : {}),
      ...(deployment.requests.cpu ? { NanoCPUs: parseCpu(deployment.requests.cpu) } : {}),
    };
  }

  const secrets: Dockerode.SecretReference[] = (deployment.secrets ?? []).map((name) => ({
    SecretName: name,
    SecretID: context.secretIds.get(name),
    File: { Name: name, UID: '0', GID: '0', Mode: 0o444 },
  }));

  return {
    Name: deployment.service,
    Labels: serviceLabels,
    TaskTemplate: {
      ContainerSpec: {
        Image: deployment.image,
        Labels: containerLabels,
        Env: env,
        Secrets: secrets,
        ReadOnly: deployment.readOnlyRootFilesystem ?? false,
        // A read-only root still needs a writable /tmp: the watchdog's readiness
        // lock and its spill file for large outputs live there. Bounded, since
        // tmpfs pages count against the task's memory.
        ...(deployment.readOnlyRootFilesystem
          ? { Mounts: [{ Type: 'tmpfs' as const, Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: READ_ONLY_TMP_BYTES, Mode: 0o1777 } }] }
          : {}),
      },
      Resources: resources,
      RestartPolicy: { Condition: 'on-failure', Delay: 5e9, MaxAttempts: 0 },
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

/** Reads a service (and its running-task count) as the API shows a function. */
export function toFunctionStatus(service: ServiceInfo, availableReplicas: number): FunctionStatus {
  const spec = service.Spec ?? {};
  const container = containerSpecOf(spec) ?? {};
  const serviceLabels = spec.Labels ?? {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...(container.Labels ?? {}), ...serviceLabels })) {
    if (key.startsWith(ANNOTATION_PREFIX)) annotations[key.slice(ANNOTATION_PREFIX.length)] = value;
    else labels[key] = value;
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
  return {
    name: spec.Name ?? service.ID,
    // Swarm pins the digest (image:tag@sha256:...) when it could resolve one; show what the user asked for.
    image: (container.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
    replicas: spec.Mode?.Replicated?.Replicas ?? 0,
    availableReplicas,
    envProcess,
    envVars,
    labels,
    annotations,
    constraints: (spec.TaskTemplate as Dockerode.ContainerTaskSpec | undefined)?.Placement?.Constraints ?? [],
    secrets: (container.Secrets ?? []).map((s) => s.SecretName ?? '').filter(Boolean),
    ...(service.CreatedAt ? { createdAt: service.CreatedAt } : {}),
  };
}
