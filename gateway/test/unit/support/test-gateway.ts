// Starts the gateway in-process on 127.0.0.1 with the fake provider, through
// the same wiring main.ts uses (buildGateway).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach } from 'vitest';
import { loadConfig } from '../../../src/programs/gateway/settings.js';
import { buildGateway, type Gateway, type GatewayParts } from '../../../src/programs/gateway/gateway.js';
import type { Credentials } from '../../../src/programs/gateway/http/basic-auth.js';
import { FakeProvider } from './fake-provider.js';

export interface TestGateway extends Gateway {
  url: string;
  provider: FakeProvider;
  close(): Promise<void>;
}

/** The options that are there (strict optional properties: a key left out, never set to undefined). */
function given<T extends Record<string, unknown>>(options: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export async function startGateway(
  options: { env?: Record<string, string>; credentials?: Credentials; provider?: FakeProvider; log?: pino.Logger } & Pick<GatewayParts, 'scaler' | 'clock' | 'probe' | 'history' | 'queue'> = {},
): Promise<TestGateway> {
  const config = loadConfig({ ...options.env });
  const provider = options.provider ?? new FakeProvider();
  const gateway = buildGateway({
    config,
    provider,
    log: options.log ?? pino({ level: 'silent' }),
    version: { release: '0.0.0-test', sha: 'test' },
    processMetrics: false,
    ...given({ credentials: options.credentials, scaler: options.scaler, clock: options.clock, probe: options.probe, history: options.history, queue: options.queue }),
  });
  await gateway.start();
  const server: Server = createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...gateway,
    url: `http://127.0.0.1:${port}`,
    provider,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.stop();
    },
  };
}

/** A plain HTTP server on 127.0.0.1 standing in for a function instance. */
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

/**
 * Registers an afterEach that closes what each test started; answers the
 * function that marks a gateway or upstream for closing (and returns it).
 */
export function closedAfterEach(): <T extends { close(): Promise<void> }>(started: T) => T {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const started of open.splice(0).reverse()) await started.close();
  });
  return (started) => {
    open.push(started);
    return started;
  };
}
