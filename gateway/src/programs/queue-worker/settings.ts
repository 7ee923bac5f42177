// The queue worker's settings: what every trigger program reads (the shared
// groups of core/settings.ts) and its callbacks.
import { z } from 'zod';
import { integer, invocationSettings, programSettings, queueSettings, seconds, triggerSettings } from '../../core/settings.js';

export const workerSettingsSchema = z.object({
  ...programSettings,
  ...invocationSettings,
  ...queueSettings,
  ...triggerSettings,
  /** Per callback POST: its timeout, and how many times it is tried. */
  ASYNC_CALLBACK_TIMEOUT: seconds.prefault('10s'),
  ASYNC_CALLBACK_ATTEMPTS: integer(1, 20).prefault('3'),
  /** Hosts (names or IPs, comma-separated) callbacks may not go to, whatever name or address the URL gives them: the stack's own services. */
  ASYNC_CALLBACK_DENY_HOSTS: z.string().trim().prefault(''),
});

export type WorkerSettings = z.output<typeof workerSettingsSchema>;
