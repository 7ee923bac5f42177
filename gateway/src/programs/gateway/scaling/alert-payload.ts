// The body AlertManager posts to a webhook receiver (payload version 4), as
// far as scaling needs it. Everything else AlertManager sends is accepted and
// ignored; a body without a usable alerts list is refused as a whole.
import { z } from 'zod';

const alertSchema = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).optional(),
    startsAt: z.string().optional(),
    endsAt: z.string().optional(),
    fingerprint: z.string().optional(),
  })
  .loose();

export const alertPayloadSchema = z
  .object({
    version: z.string().optional(),
    status: z.enum(['firing', 'resolved']).optional(),
    receiver: z.string().optional(),
    groupKey: z.string().optional(),
    // AlertManager caps a notification with max_alerts; 1000 is far beyond any real group.
    alerts: z.array(alertSchema).max(1000),
  })
  .loose();

export type AlertPayload = z.output<typeof alertPayloadSchema>;
export type Alert = AlertPayload['alerts'][number];

/** The label naming the function an alert is about (set by the rule's `by (function_name)`). */
export const ALERT_FUNCTION_LABEL = 'function_name';
