// The connector's settings: what every trigger program reads (the shared
// groups of core/settings.ts), and where RabbitMQ is.
import { z } from 'zod';
import { metricsAccessSettings } from '../../core/metrics-access.js';
import { invocationSettings, programSettings, queueSettings, rabbitmqSettings, triggerSettings } from '../../core/settings.js';

export const connectorSettingsSchema = z.object({
  ...programSettings,
  ...invocationSettings,
  ...queueSettings,
  ...triggerSettings,
  ...metricsAccessSettings,
  ...rabbitmqSettings,
});

export type ConnectorSettings = z.output<typeof connectorSettingsSchema>;
