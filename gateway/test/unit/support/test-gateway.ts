// Starts the gateway app in-process on 127.0.0.1 with a fake provider.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createRequestListener } from '../../../src/app.js';
import { loadConfig, type Config } from '../../../src/config.js';
import type { Credentials } from '../../../src/http/basic-auth.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { createScaler, type Scaler } from '../../../src/scaling/index.js';
import { EndpointTable } from '../../../src/upstream/endpoints.js';
import { Forwarder } from '../../../src/upstream/forward.js';
import { DirectView, FakeProvider } from './fake-provider.js';

export interface TestGateway {
  url: string;
  provider: FakeProvider;
  metrics: GatewayMetrics;
  endpoints: EndpointTable;
  close(): Promise<void>;
}

export async function startGateway(
  options: { env?: Record<string, string>; credentials?: Credentials; scaler?: Scaler; provider?: FakeProvider; log?: pino.Logger } = {},
): Promise<TestGateway> {
  const config: Config = loadConfig({ UPSTREAM_REFRESH: '60s', ...options.env });
  const log = options.log ?? pino({ level: 'silent' });
  const provider = options.provider ?? new FakeProvider();
  const functions = new DirectView(provider);
  const metrics = new GatewayMetrics(functions, { processMetrics: false });
  const endpoints = new EndpointTable((name) => provider.endpoints(name), config.UPSTREAM_REFRESH * 1000, log);
  const forwarder = new Forwarder(endpoints, { timeoutMs: config.UPSTREAM_TIMEOUT * 1000, bodyLimit: config.FUNCTION_BODY_LIMIT });
  const scaler = options.scaler ?? createScaler({ config, provider, functions, log, events: metrics });
  const listener = createRequestListener({
    config,
    provider,
    functions,
    scaler,
    metrics,
    endpoints,
    forwarder,
    log,
    ready: () => true,
    version: { release: '0.0.0-test', sha: 'test' },
    providerInfo: { provider: 'fake', orchestration: 'swarm' },
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    provider,
    metrics,
    endpoints,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await forwarder.close();
    },
  };
}

/** A plain HTTP server on 127.0.0.1 standing in for a function task. */
export async function startUpstream(
  handler: Parameters<typeof createServer>[1],
): Promise<{ address: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
