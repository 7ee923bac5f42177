#!/usr/bin/env node
// RabbitMQ triggers, in one run against a deployed stack with a broker
// (./deploy_stack.sh --with-rabbitmq --publish-rabbitmq):
//   1. messages per second through a function against synchronous calls of
//      the same function: rounds alternating, the same connections POST
//      /function/<fn> for BENCH_DURATION/rounds seconds, then as many
//      messages as those calls made are published to the function's queue
//      (persistent, confirmed) and the rate is counted from the first publish
//      to the last answer in `downstream` (the output binding: every message
//      invoked, answered and its answer confirmed);
//   2. publish -> invocation at low load (one message at a time, about 20 per
//      second): p50, p99, from the bench publishing to the function getting
//      it (the host's clock: the containers share it).
//
//   RABBITMQ_URL=amqp://faas:PASSWORD@127.0.0.1:5672/ GATEWAY_URL=http://127.0.0.1:8080 node bench/rabbitmq.mjs
//
// Environment: that of _support.mjs (the gateway; the rounds: BENCH_DURATION
// seconds of synchronous calls, BENCH_CONNECTIONS also the function's
// max-inflight, BENCH_LOW messages at low load); STACK_NAME [func];
// RABBITMQ_URL (else amqp://faas:<the stack's password, read from its
// gateway's container>@127.0.0.1:RABBITMQ_PORT/, RABBITMQ_PORT [5672]).
//
// The function is the watchdog's HTTP mode in front of a small server that
// keeps each request's body and arrival time, pinned to one task; it and its
// queues are removed at the end. Prints a table and writes bench/results/rabbitmq.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'amqplib';
import autocannon from 'autocannon';
import { deploy, fmt, gateway, httpFunction, KEEPER_JS, kept, percentile, roundSettings, root, sleep, system, until, watchdogImage } from './_support.mjs';

const stack = process.env.STACK_NAME || 'func';
const fn = `${stack}_rmqbench`;
const queue = `bench-${stack}-in`;
const downstream = `bench-${stack}-out`;
const { duration, rounds, connections, lowCount } = roundSettings;

function brokerUrl() {
  if (process.env.RABBITMQ_URL) return process.env.RABBITMQ_URL;
  const id = execFileSync('docker', ['ps', '-q', '-f', `label=com.docker.swarm.service.name=${stack}_gateway`]).toString().split('\n')[0].trim();
  const password = execFileSync('docker', ['exec', id, 'cat', '/run/secrets/rabbitmq-password']).toString().trim();
  return `amqp://faas:${encodeURIComponent(password)}@127.0.0.1:${process.env.RABBITMQ_PORT ?? 5672}/`;
}

// The keeper (bench/_support.mjs) pinned to one task, subscribed to the queue, its answers to downstream.
const spec = httpFunction(fn, KEEPER_JS, {
  labels: { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.max': '1', 'com.openfaas.scale.factor': '0', 'com.openfaas.async.max-inflight': String(connections) },
  annotations: { 'rabbitmq-topic': queue, 'rabbitmq-output': downstream },
});
const calls = (from = 0) => kept(fn, from);

async function main() {
  const model = await connect(brokerUrl());
  const channel = await model.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  await channel.assertQueue(downstream, { durable: true });
  await channel.purgeQueue(queue);
  await channel.purgeQueue(downstream);
  // Every answer in downstream, with when it arrived.
  const answers = [];
  const reader = await model.createChannel();
  await reader.consume(downstream, (m) => {
    if (!m) return;
    answers.push([String(m.properties.headers?.['x-source-message-id'] ?? ''), Date.now()]);
    reader.ack(m);
  });
  const publish = async (bodies) => {
    for (const body of bodies) {
      if (!channel.sendToQueue(queue, Buffer.from(body), { persistent: true, messageId: body })) await new Promise((r) => channel.once('drain', r));
    }
    await channel.waitForConfirms();
  };

  console.log(`[bench rabbitmq] gateway ${gateway}, function ${fn} (queue ${queue} -> ${downstream}), ${watchdogImage}, HTTP mode, max-inflight ${connections}`);
  await deploy(spec);
  try {
    await until(`${fn} subscribed`, async () => {
      const tag = `warm-${Date.now()}`;
      await publish([tag]);
      await sleep(1_000);
      return answers.some(([id]) => id === tag) ? true : undefined;
    }, 90_000, 0);

    // 1. Rounds alternating: synchronous calls, then the same number of messages through the connector.
    const slice = duration / rounds;
    const pooled = { sync: 0, syncSeconds: 0, messages: 0, answered: 0, seconds: 0, errors: 0 };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['sync', 'rabbitmq'] : ['rabbitmq', 'sync'];
      let count = Math.max(200, Math.round((pooled.sync / Math.max(pooled.syncSeconds, 1)) * slice) || 500);
      for (const what of order) {
        if (what === 'sync') {
          const instance = autocannon({ url: `${gateway}/function/${fn}`, connections, duration: slice, method: 'POST', body: 'sync' });
          let ok = 0;
          instance.on('response', (_c, status) => {
            if (status === 200) ok++;
          });
          const result = await instance;
          pooled.sync += ok;
          pooled.syncSeconds += slice;
          pooled.errors += result.errors + result.timeouts;
          count = Math.max(200, ok);
        } else {
          const tag = `r${round}-${Date.now()}-`;
          const ids = Array.from({ length: count }, (_, i) => `${tag}${i}`);
          const wanted = new Set(ids);
          // From the first publish to the last answer confirmed in downstream: every message invoked and answered.
          const first = Date.now();
          await publish(ids);
          await until(`round ${round}: ${count} answers`, async () => (answers.filter(([id]) => wanted.has(id)).length >= count ? true : undefined), 300_000, 200);
          const last = Math.max(...answers.filter(([id]) => wanted.has(id)).map(([, at]) => at));
          pooled.messages += count;
          pooled.answered += new Set(answers.filter(([id]) => wanted.has(id)).map(([id]) => id)).size;
          pooled.seconds += (last - first) / 1000;
        }
      }
    }
    const syncRps = pooled.sync / pooled.syncSeconds;
    const rabbitRps = pooled.answered / pooled.seconds;

    // 2. Low load: one message at a time, about 20 per second.
    const tag = `lat-${Date.now()}-`;
    const sent = new Map();
    const from = (await calls()).length;
    for (let i = 0; i < lowCount; i++) {
      const body = `${tag}${i}`;
      sent.set(body, Date.now());
      await publish([body]);
      await sleep(50);
    }
    const got = new Map();
    let offset = from;
    await until(`${lowCount} arrivals`, async () => {
      const rows = await calls(offset);
      offset += rows.length;
      for (const [body, at] of rows) if (sent.has(body)) got.set(body, at);
      return got.size >= sent.size ? true : undefined;
    }, 60_000, 500).catch(() => undefined);
    const values = [...got].map(([body, at]) => at - sent.get(body)).sort((a, b) => a - b);
    const latency = { messages: sent.size, arrived: got.size, p50: percentile(values, 50), p99: percentile(values, 99), max: values.at(-1) };

    const result = {
      at: new Date().toISOString(),
      connections,
      throughput: { syncRps, rabbitmq: { messages: pooled.messages, answered: pooled.answered, perSecond: rabbitRps, ratio: rabbitRps / syncRps } },
      latency,
    };
    console.log(`\n${connections} connections (max-inflight ${connections}), ${duration} s of synchronous calls in ${rounds} rounds, as many messages after each:`);
    console.log('measure | figure');
    console.log(`synchronous invocations /s (POST /function/) | ${fmt(syncRps)}`);
    console.log(`RabbitMQ: messages /s through the function (publish -> invoked -> answer confirmed in ${downstream}) | ${fmt(rabbitRps)} (${fmt(result.throughput.rabbitmq.ratio, 2)} x synchronous; ${pooled.answered} of ${pooled.messages})`);
    console.log(`publish -> invocation (${latency.arrived}/${latency.messages}, ~20/s) | p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms, max ${fmt(latency.max)} ms`);
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'rabbitmq.json'), JSON.stringify(result, null, 2));
  } finally {
    await system('DELETE', '/system/functions', { functionName: fn }).catch(() => undefined);
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.deleteQueue(downstream).catch(() => undefined);
    await model.close().catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`[bench rabbitmq] failed: ${error.stack ?? error}`);
  void system('DELETE', '/system/functions', { functionName: fn }).catch(() => undefined);
  process.exitCode = 1;
});
