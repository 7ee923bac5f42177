// The queue worker's settings: what every trigger program reads (the shared
// groups of core/settings.ts) and its callbacks.
import { z } from 'zod';
import { metricsAccessSettings } from '../../core/metrics-access.js';
import { integer, invocationSettings, programSettings, queueSettings, seconds, triggerSettings } from '../../core/settings.js';
import { parseAllowList } from './address-policy.js';

export const workerSettingsSchema = z.object({
  ...programSettings,
  ...invocationSettings,
  ...queueSettings,
  ...triggerSettings,
  ...metricsAccessSettings,
  /** Per callback POST: its timeout, and how many times it is tried. */
  ASYNC_CALLBACK_TIMEOUT: seconds.prefault('10s'),
  ASYNC_CALLBACK_ATTEMPTS: integer(1, 20).prefault('3'),
  /**
   * Callbacks never reach loopback, unspecified, link-local or reserved
   * addresses, the stack or its nodes, and reach private ranges (10/8,
   * 172.16/12, 192.168/16, 100.64/10, fc00::/7) only when allowed here:
   * comma-separated ranges, addresses or host names (e.g. a receiver on the LAN).
   */
  ASYNC_CALLBACK_ALLOW: z
    .string()
    .trim()
    .superRefine((text, ctx) => {
      try {
        parseAllowList(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .prefault(''),
  /** The stack's services (comma-separated): callbacks go to none of their tasks' addresses, on any network, nor to their names. */
  ASYNC_CALLBACK_DENY_HOSTS: z.string().trim().prefault(''),
  /** The stack's networks (comma-separated), on which the services above are looked up (`tasks.<service>.<network>`). */
  ASYNC_CALLBACK_DENY_NETWORKS: z.string().trim().prefault(''),
});

export type WorkerSettings = z.output<typeof workerSettingsSchema>;
