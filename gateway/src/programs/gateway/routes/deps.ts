// What every route handler may use. Handlers see the Provider and the
// FunctionView only through their interfaces: no orchestrator specifics here.
import type { Logger } from 'pino';
import type { Config } from '../../../core/settings.js';
import type { FunctionView } from '../../../core/functions/view.js';
import type { GatewayMetrics } from '../../../core/metrics.js';
import type { Provider } from '../provider/types.js';
import type { Scaler } from '../scaling/index.js';
import type { RequestSchemas } from '../validation.js';

export interface RouteDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  scaler: Scaler;
  metrics: GatewayMetrics;
  log: Logger;
  /** The request schemas, with the provider's naming rules. */
  schemas: RequestSchemas;
  /** True once the function view has read the functions at least once. */
  ready: () => boolean;
  version: { release: string; sha: string };
}
