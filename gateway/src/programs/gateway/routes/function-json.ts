// A function as the API answers it: OpenFaaS's FunctionStatus fields
// (createdAt only when known: an empty string breaks Go clients), plus the
// scaling limits the gateway computed for it. The shape is api/answers.ts's.
import type { FunctionStatusAnswer } from '../api/answers.js';
import type { FunctionEntry } from '../provider/types.js';
import { scalingSummary, type ScalingSettings } from '../scaling/summary.js';

export function functionJson(entry: FunctionEntry, invocationCount: number, settings: ScalingSettings, options: { instances?: boolean } = {}): FunctionStatusAnswer {
  const { status } = entry;
  return {
    name: status.name,
    namespace: status.namespace,
    image: status.image,
    invocationCount,
    replicas: status.replicas,
    availableReplicas: status.availableReplicas,
    envProcess: status.envProcess,
    envVars: status.envVars,
    labels: status.labels,
    annotations: status.annotations,
    constraints: status.constraints,
    secrets: status.secrets,
    ...(status.limits ? { limits: status.limits } : {}),
    ...(status.requests ? { requests: status.requests } : {}),
    readOnlyRootFilesystem: status.readOnlyRootFilesystem,
    ...(status.createdAt ? { createdAt: status.createdAt } : {}),
    ...(status.unavailableReason ? { unavailableReason: status.unavailableReason } : {}),
    scaling: scalingSummary(status.labels, status.envVars, settings),
    // A task's address is the gateway's business, not the client's.
    ...(options.instances ? { instances: entry.instances.map(({ address: _address, ...instance }) => instance) } : {}),
  };
}
