// POST /system/scale-function/{name}'s logic: sets a function's replicas,
// from 0 (asleep: the next request wakes it) up to its maximum.
import { z } from 'zod';
import { ValidationError } from '../validation.js';
import { keyOf, ProviderError, type FunctionRef } from '../provider/types.js';
import { applyReplicas, limitsFor, locked, nameOf, type ScalingContext } from './context.js';

export const scaleRequestSchema = z
  .object({
    /** OpenFaaS sends the name in the body too; when present it must match the path. */
    serviceName: z.string().optional(),
    namespace: z.string().nullish(),
    replicas: z.number().int('expected a whole number').min(0, 'expected 0 or more'),
  })
  .strip();

export type ScaleRequest = z.output<typeof scaleRequestSchema>;

export interface ScaleResult {
  serviceName: string;
  namespace: string;
  replicas: number;
  previousReplicas: number;
}

export async function scaleManually(context: ScalingContext, ref: FunctionRef, request: ScaleRequest): Promise<ScaleResult> {
  const name = nameOf(context, ref);
  if (request.serviceName !== undefined && request.serviceName !== ref.name && request.serviceName !== name) {
    throw new ValidationError(`invalid request: serviceName ${JSON.stringify(request.serviceName)} does not match the function in the path (${name})`);
  }
  return locked(context, ref, async () => {
    const entry = await context.functions.refresh(ref);
    if (!entry) throw new ProviderError('not-found', `function ${name} not found`);
    const from = entry.status.replicas;
    const limits = limitsFor(context, ref, entry.status.labels);
    if (request.replicas > limits.max) {
      throw new ValidationError(`invalid request: replicas: ${request.replicas} is above the maximum of ${name} (${limits.max}; labels com.openfaas.scale.max, com.faas.max_replicas)`);
    }
    if (request.replicas !== from) await applyReplicas(context, ref, request.replicas, undefined, 'manual');
    // A function scaled by hand starts a fresh idle period.
    context.activity.touch(keyOf(ref));
    context.log.info({ function: name, from, to: request.replicas }, `scaled ${name} from ${from} to ${request.replicas} replicas (by request)`);
    return { serviceName: ref.name, namespace: ref.namespace, replicas: request.replicas, previousReplicas: from };
  });
}
