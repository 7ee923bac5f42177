// POST /system/scale-function/{name}'s logic: sets a function's replicas,
// from 0 (asleep: the next request wakes it) up to its maximum.
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import { applyReplicas, limitsFor, type ScalingContext } from './context.js';
import { scalingEventOf } from '../metrics.js';

export const scaleRequestSchema = z
  .object({
    /** OpenFaaS sends the name in the body too; when present it must match the path. */
    serviceName: z.string().optional(),
    replicas: z.number().int('expected a whole number').min(0, 'expected 0 or more'),
  })
  .strip();

export type ScaleRequest = z.output<typeof scaleRequestSchema>;

export interface ScaleResult {
  serviceName: string;
  replicas: number;
  previousReplicas: number;
}

export async function scaleManually(context: ScalingContext, name: string, request: ScaleRequest): Promise<ScaleResult> {
  if (request.serviceName !== undefined && request.serviceName !== name) {
    throw new HttpError(400, `invalid request: serviceName ${JSON.stringify(request.serviceName)} does not match the function in the path (${name})`);
  }
  return context.lock.run(name, async () => {
    const fn = await context.functions.refresh(name);
    if (!fn) throw new HttpError(404, `function ${name} not found`);
    const limits = limitsFor(context, name, fn.labels);
    if (request.replicas > limits.max) {
      throw new HttpError(400, `invalid request: replicas: ${request.replicas} is above the maximum of ${name} (${limits.max}; labels com.openfaas.scale.max, com.faas.max_replicas)`);
    }
    if (request.replicas !== fn.replicas) {
      await applyReplicas(context, name, request.replicas);
      context.events?.recordScalingEvent(name, scalingEventOf(fn.replicas, request.replicas));
    }
    // A function scaled by hand starts a fresh idle period.
    context.activity.touch(name);
    context.log.info({ function: name, from: fn.replicas, to: request.replicas }, `scaled ${name} from ${fn.replicas} to ${request.replicas} replicas (by request)`);
    return { serviceName: name, replicas: request.replicas, previousReplicas: fn.replicas };
  });
}
