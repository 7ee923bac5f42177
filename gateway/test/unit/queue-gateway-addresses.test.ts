// The gateways announce their own addresses in NATS, and the queue worker's
// callback guard refuses them: a gateway task that Swarm's DNS does not list
// yet (it was just replaced) is refused all the same. Real nats-server.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { announcedGatewayAddresses, announceGatewayAddresses } from '../../src/queue/gateway-addresses.js';
import { parseAllowList } from '../../src/programs/queue-worker/address-policy.js';
import { CallbackGuard, CallbackRefused } from '../../src/programs/queue-worker/callback-guard.js';
import { fixedAddresses, listedAddresses, unionOf } from '../../src/programs/queue-worker/stack-addresses.js';
import { natsForFile } from './support/nats-server.js';
import { until } from './support/until.js';

const log = pino({ level: 'silent' });
const nats = natsForFile(log);

describe("the gateways' own addresses", () => {
  it('reach the worker from NATS, and its guard refuses them while DNS knows only the old gateway', async () => {
    let addresses = ['10.0.41.16', '10.0.46.22'];
    const gateway = announceGatewayAddresses(nats.connection('gateway'), 'gateway-1a2b3c4d', log, () => addresses);
    gateway.start();
    nats.closeAfterAll(() => gateway.stop());
    const announced = announcedGatewayAddresses(nats.connection('worker'));
    await until('the announcement', async () => ((await announced({ fresh: true })).length ? true : undefined));
    expect((await announced()).sort()).toEqual(['10.0.41.16', '10.0.46.22']);

    // DNS (the fixed set here) still lists the replaced task's address; the new one's come from NATS.
    const guard = new CallbackGuard(parseAllowList('10.0.0.0/8'), unionOf(fixedAddresses(['10.0.41.9']), listedAddresses(announced)), ['gateway'], []);
    for (const address of ['10.0.41.9', '10.0.41.16', '10.0.46.22']) await expect(guard.check(address, address), address).rejects.toBeInstanceOf(CallbackRefused);
    await expect(guard.check('10.0.41.17', '10.0.41.17')).resolves.toBeUndefined();

    // A second gateway, and a new address of the first: a fresh read has them all.
    const second = announceGatewayAddresses(nats.connection('gateway-2'), 'gateway-5e6f7a8b', log, () => ['10.0.52.3']);
    second.start();
    nats.closeAfterAll(() => second.stop());
    addresses = ['10.0.41.30'];
    const again = announceGatewayAddresses(nats.connection('gateway-restarted'), 'gateway-1a2b3c4d', log, () => addresses);
    again.start();
    nats.closeAfterAll(() => again.stop());
    const latest = async () => (await announced({ fresh: true })).sort().join(' ');
    await until('the second gateway and the new address', async () => ((await latest()) === '10.0.41.30 10.0.52.3' ? true : undefined));
    expect((await announced({ fresh: true })).sort()).toEqual(['10.0.41.30', '10.0.52.3']);
    await expect(guard.check('10.0.52.3', '10.0.52.3')).rejects.toBeInstanceOf(CallbackRefused);
    await expect(guard.check('10.0.41.30', '10.0.41.30')).rejects.toBeInstanceOf(CallbackRefused);
  });

  it('keeps the last set when NATS cannot be read', async () => {
    const connection = nats.connection('worker-2');
    const gateway = announceGatewayAddresses(nats.connection('gateway-3'), 'gateway-9c0d1e2f', log, () => ['10.0.60.4']);
    gateway.start();
    nats.closeAfterAll(() => gateway.stop());
    const announced = announcedGatewayAddresses(connection);
    await until('the announcement', async () => ((await announced({ fresh: true })).includes('10.0.60.4') ? true : undefined));
    await connection.close();
    expect(await announced({ fresh: true })).toContain('10.0.60.4');
  });
});
