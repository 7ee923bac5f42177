// The connector's settings: what every trigger program reads (the shared
// groups of core/settings.ts).
import { z } from 'zod';
import { invocationSettings, programSettings, queueSettings, triggerSettings } from '../../core/settings.js';

export const connectorSettingsSchema = z.object({
  ...programSettings,
  ...invocationSettings,
  ...queueSettings,
  ...triggerSettings,
});

export type ConnectorSettings = z.output<typeof connectorSettingsSchema>;
