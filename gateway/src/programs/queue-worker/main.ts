// The queue worker (dist/queue-worker.mjs, in the gateway's image): takes the
// calls /async-function queued in JetStream and makes them through the
// invocation core, calls back, retries, keeps dead letters. It knows the
// functions from the catalog the gateways keep in NATS and asks the gateways
// to wake a sleeping function: no Docker socket, no HTTP API.
import { workerSettingsSchema } from './settings.js';
import { serve, startTriggerProgram } from '../../triggers/program.js';
import { CallbackSender } from './callback.js';
import { announcedGatewayAddresses } from '../../queue/gateway-addresses.js';
import { CallbackGuard } from './callback-guard.js';
import { listedAddresses } from './stack-addresses.js';
import { CallTrigger } from './call-trigger.js';
import { WorkerMetrics } from './metrics.js';
import { QueueWorker } from './worker.js';

async function main(): Promise<void> {
  const program = await startTriggerProgram({ schema: workerSettingsSchema, what: 'queue worker settings', service: 'queue-worker', source: 'async' });
  const { settings, log, queue, functions, nameOf } = program;
  let worker: QueueWorker | undefined;
  const metrics = new WorkerMetrics(program.registry, {
    queued: async () => (await queue.calls.depths()).map(({ ref, messages }) => ({ ref, count: messages })),
    dead: () => queue.calls.deadCounts(),
    inflight: () => worker?.inflight() ?? [],
    nameOf,
    log: (error) => log.debug({ err: error }, 'queue depth not read'),
  });
  // The stack's addresses: Swarm's DNS, and what the gateways announce (a new gateway task before DNS lists it).
  const callbacks = new CallbackSender(settings, CallbackGuard.fromSettings(settings, listedAddresses(announcedGatewayAddresses(queue.connection))));
  const trigger = new CallTrigger({ functions, calls: queue.calls, callbacks, metrics, settings, log, nameOf });
  worker = new QueueWorker({ functions, calls: queue.calls, trigger, metrics, runner: program.runnerDeps, settings, log, nameOf });
  worker.start();
  serve(program, 'queue worker', async (graceMs) => {
    await worker.stop(graceMs);
    await callbacks.close();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`queue worker failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
