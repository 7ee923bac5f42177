// The event connector (dist/connector.mjs, in the gateway's image, the
// stack's `connector` service): keeps every function's topics and schedule
// (its annotations) in NATS and invokes functions for their events through
// the invocation core. It knows the functions from the catalog the gateways
// keep in NATS and asks the gateways to wake a sleeping function: no Docker
// socket, no HTTP API. Several replicas share the work. With RABBITMQ_URL it
// also consumes the RabbitMQ queues functions name (rabbitmq-subscriptions.ts).
import { brokerAccess } from '../../rabbitmq/connection.js';
import { serve, startTriggerProgram } from '../../triggers/program.js';
import { ConnectorMetrics } from './metrics.js';
import { RabbitSubscriptions } from './rabbitmq-subscriptions.js';
import { EventConnector } from './reconciler.js';
import { connectorSettingsSchema } from './settings.js';

async function main(): Promise<void> {
  const program = await startTriggerProgram({ schema: connectorSettingsSchema, what: 'event connector settings', service: 'connector', source: 'topic' });
  const { settings, log, queue, functions, nameOf } = program;
  let connector: EventConnector | undefined;
  let rabbit: RabbitSubscriptions | undefined;
  const metrics = new ConnectorMetrics(program.registry, {
    subscriptions: () => [...(connector?.subscriptions() ?? []), ...(rabbit?.subscriptions() ?? [])],
    inflight: () => [...(connector?.inflight() ?? []), ...(rabbit?.inflight() ?? [])],
  });
  const deps = { functions, events: queue.events, calls: queue.calls, metrics, runner: program.runnerDeps, settings, log, nameOf };
  connector = new EventConnector(deps, { reserved: [settings.ASYNC_STREAM, `${settings.ASYNC_STREAM}-dead`, `${settings.ASYNC_STREAM}-fn`] });
  connector.start();
  // RabbitMQ queues (annotation rabbitmq-topic), when the stack has a broker.
  if (settings.RABBITMQ_URL) {
    rabbit = new RabbitSubscriptions(deps, brokerAccess(settings), program.registry);
    rabbit.start();
  }
  serve(program, 'event connector', async (graceMs) => {
    await Promise.all([connector.stop(graceMs), rabbit?.stop(graceMs)]);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`event connector failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
