// What every route handler may use. Handlers see the Provider and the
// FunctionView only through their interfaces: no Swarm specifics here.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { GatewayMetrics } from '../metrics.js';
import type { FunctionView, Provider } from '../provider/types.js';
import type { Scaler } from '../scaling/index.js';
import type { EndpointTable } from '../upstream/endpoints.js';
import type { Forwarder } from '../upstream/forward.js';

export interface RouteDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  scaler: Scaler;
  metrics: GatewayMetrics;
  endpoints: EndpointTable;
  forwarder: Forwarder;
  log: Logger;
  /** True once the function view has read the functions at least once. */
  ready: () => boolean;
  version: { release: string; sha: string };
  /** The provider's name and orchestration, for /system/info. */
  providerInfo: { provider: string; orchestration: string };
}
