// The event connector (dist/connector.mjs, in the gateway's image, the
// stack's `connector` service): keeps every function's topics and schedule
// (its annotations) in NATS and invokes functions for their events through
// the invocation core. It knows the functions from the catalog the gateways
// keep in NATS and asks the gateways to wake a sleeping function: no Docker
// socket, no HTTP API. Several replicas share the work.
import { serve, startTriggerProgram } from '../../triggers/program.js';
import { ConnectorMetrics } from './metrics.js';
import { EventConnector } from './reconciler.js';
import { connectorSettingsSchema } from './settings.js';

async function main(): Promise<void> {
  const program = await startTriggerProgram({ schema: connectorSettingsSchema, what: 'event connector settings', service: 'connector', source: 'topic' });
  const { settings, log, queue, functions, nameOf } = program;
  let connector: EventConnector | undefined;
  const metrics = new ConnectorMetrics(program.registry, { subscriptions: () => connector?.subscriptions() ?? [], inflight: () => connector?.inflight() ?? [] });
  connector = new EventConnector(
    { functions, events: queue.events, calls: queue.calls, metrics, runner: program.runnerDeps, settings, log, nameOf },
    { reserved: [settings.ASYNC_STREAM, `${settings.ASYNC_STREAM}-dead`, `${settings.ASYNC_STREAM}-fn`] },
  );
  connector.start();
  serve(program, 'event connector', (graceMs) => connector.stop(graceMs));
}

main().catch((error: unknown) => {
  process.stderr.write(`event connector failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
