// Bad input on every route of the deployed gateway: each gets a 4xx whose
// message names what was wrong, none changes any service of the stack, and
// the gateway keeps serving throughout. (Path tricks on the auth boundary:
// gateway-auth.test.ts; property tests of the parsers: gateway/test/unit/fuzz-*.)
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { authHeader, fn, gatewayUrl, image, systemFetch } from './support/gateway.js';

const run = promisify(execFile);
const stack = inject('stackName');
const echoitImage = image('echoit');
let requests = 0;
let healthChecks = 0;

/** Every service of the swarm with its spec version: any change shows. */
async function swarmState(): Promise<string> {
  const { stdout } = await run('docker', ['service', 'ls', '--format', '{{.ID}} {{.Name}}']);
  const ours = stdout.split('\n').filter((line) => line.split(' ')[1]?.startsWith(`${stack}_`));
  const ids = ours.map((line) => line.split(' ')[0]!);
  const { stdout: versions } = await run('docker', ['service', 'inspect', '--format', '{{.Spec.Name}} {{.Version.Index}}', ...ids]);
  return versions.split('\n').filter(Boolean).sort().join('\n');
}

async function expectServing(): Promise<void> {
  healthChecks++;
  const res = await fetch(gatewayUrl('/healthz'), { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
}

/** Sends raw bytes and returns the status line of the answer (or '' when the connection just closed). */
function rawExchange(bytes: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(gatewayUrl());
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(answer.split('\r\n')[0] ?? '') : reject(error)));
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.end(bytes);
  });
}

interface Case {
  what: string;
  method: string;
  path: string;
  body?: string;
  status: number;
  message: RegExp;
}

const deployCases = (method: 'POST' | 'PUT'): Case[] => {
  const body = (value: unknown) => JSON.stringify(value);
  const name = fn('relin');
  return [
    { what: 'malformed JSON', method, path: '/system/functions', body: '{"service": ', status: 400, message: /body: not JSON/ },
    { what: 'an empty body', method, path: '/system/functions', body: '', status: 400, message: /body: expected a JSON object/ },
    { what: 'a JSON array', method, path: '/system/functions', body: '[]', status: 400, message: /body: / },
    { what: 'wrong types', method, path: '/system/functions', body: body({ service: 5, image: ['x'], envVars: 'a=b', limits: { memory: 128 } }), status: 400, message: /service: .*image: .*envVars: .*limits\.memory: / },
    { what: 'missing fields', method, path: '/system/functions', body: '{}', status: 400, message: /service: .*image: / },
    { what: 'an unknown field', method, path: '/system/functions', body: body({ service: name, image: echoitImage, envVar: { a: 'b' } }), status: 400, message: /unknown field envVar/ },
    ...(method === 'POST'
      ? [
          ['upper case', 'Relin'],
          ['a dot', 'rel.in'],
          ['a slash', 'rel/in'],
          ['..', '..'],
          ['64 characters', 'r'.repeat(64)],
          ['unicode', 'rélin'],
          ['an empty name', ''],
        ].map(([why, service]) => ({ what: `a name with ${why}`, method, path: '/system/functions', body: body({ service, image: echoitImage }), status: 400, message: /service: expected a name/ }))
      : []),
    ...['Not A/Valid:Image', 'UPPER/case:1', 'echo//it', 'echoit:', 'echoit@sha256:xyz', 'a:b:c', ' echoit'].map((ref) => ({
      what: `image "${ref}"`,
      method,
      path: '/system/functions',
      body: body({ service: name, image: ref }),
      status: 400,
      message: /image: expected an image reference/,
    })),
    { what: 'a body over SYSTEM_BODY_LIMIT (1 MiB)', method, path: '/system/functions', body: body({ service: name, image: echoitImage, envProcess: 'x'.repeat(1024 * 1024 + 10) }), status: 413, message: /larger than 1048576 bytes/ },
  ];
};

const cases: Case[] = [
  ...deployCases('POST'),
  ...deployCases('PUT'),
  { what: 'DELETE malformed JSON', method: 'DELETE', path: '/system/functions', body: '{functionName', status: 400, message: /body: not JSON/ },
  { what: 'DELETE wrong type', method: 'DELETE', path: '/system/functions', body: '{"functionName": 5}', status: 400, message: /functionName: / },
  { what: 'DELETE an invalid name', method: 'DELETE', path: '/system/functions', body: '{"functionName": "../x"}', status: 400, message: /functionName: expected a function name/ },
  { what: 'DELETE over the limit', method: 'DELETE', path: '/system/functions', body: JSON.stringify({ functionName: 'x'.repeat(1024 * 1024 + 10) }), status: 413, message: /larger than/ },
  { what: 'alert: not JSON', method: 'POST', path: '/system/alert', body: 'receiver=x', status: 400, message: /body: not JSON/ },
  { what: 'alert: no alerts list', method: 'POST', path: '/system/alert', body: '{"status":"firing"}', status: 400, message: /alerts: / },
  { what: 'alert: alert of the wrong shape', method: 'POST', path: '/system/alert', body: '{"alerts":[{"status":"burning","labels":{"function_name":5}}]}', status: 400, message: /alerts\.0\.status: .*alerts\.0\.labels\.function_name: / },
  { what: 'scale: negative replicas', method: 'POST', path: `/system/scale-function/${fn('echoit')}`, body: '{"replicas": -1}', status: 400, message: /replicas: / },
  { what: 'scale: replicas as text', method: 'POST', path: `/system/scale-function/${fn('echoit')}`, body: '{"replicas": "5"}', status: 400, message: /replicas: / },
  { what: 'scale: a service that is not a function', method: 'POST', path: `/system/scale-function/${fn('gateway')}`, body: '{"replicas": 3}', status: 404, message: /not found/ },
  { what: 'logs: no name', method: 'GET', path: '/system/logs', status: 400, message: /name: / },
  { what: 'logs: bad tail', method: 'GET', path: `/system/logs?name=${fn('echoit')}&tail=ten`, status: 400, message: /tail: / },
  { what: 'logs: bad since', method: 'GET', path: `/system/logs?name=${fn('echoit')}&since=yesterday`, status: 400, message: /since: / },
  { what: 'get: a name with a dot', method: 'GET', path: '/system/function/a.b', status: 404, message: /function a\.b not found/ },
  { what: 'PATCH /system/functions', method: 'PATCH', path: '/system/functions', body: '{}', status: 405, message: /PATCH is not allowed on \/system\/functions \(allowed: .*POST/ },
  { what: 'GET /system/alert', method: 'GET', path: '/system/alert', status: 405, message: /GET is not allowed on \/system\/alert \(allowed: POST\)/ },
  { what: 'DELETE /system/info', method: 'DELETE', path: '/system/info', status: 405, message: /DELETE is not allowed/ },
  { what: 'POST /metrics', method: 'POST', path: '/metrics', body: 'x', status: 405, message: /POST is not allowed on \/metrics/ },
  { what: 'PUT /healthz', method: 'PUT', path: '/healthz', body: 'x', status: 405, message: /PUT is not allowed on \/healthz/ },
  { what: 'invoke: a name with a dot', method: 'POST', path: '/function/rel.in', body: 'x', status: 404, message: /function rel\.in not found/ },
  { what: 'invoke: a 70-character name', method: 'POST', path: `/function/${'r'.repeat(70)}`, body: 'x', status: 404, message: /not found/ },
  { what: 'invoke: an encoded slash', method: 'POST', path: `/function/${fn('echoit')}%2F..%2F..%2Fsystem`, body: 'x', status: 400, message: /invalid path: encoded "\/"/ },
];

let before = '';
beforeAll(async () => {
  before = await swarmState();
});

afterAll(() => {
  process.stderr.write(`[reliability] bad input: ${requests} requests refused as expected, ${healthChecks} health checks between them\n`);
});

describe('bad input on every route', () => {
  it.each(cases.map((c) => [c.what, c] as const))('%s: a 4xx naming the problem', async (_what, c) => {
    const res = await systemFetch(c.path, { method: c.method, ...(c.body !== undefined ? { body: c.body } : {}), signal: AbortSignal.timeout(15_000) });
    requests++;
    const text = await res.text();
    expect(res.status, text).toBe(c.status);
    expect(text).toMatch(c.message);
    await expectServing();
  });

  it('refuses huge and malformed headers and keeps serving', async () => {
    // Node's limit on the header block is 16 KiB: 431, before any route runs.
    const huge = await fetch(gatewayUrl('/system/functions'), { headers: { ...authHeader(), 'x-huge': 'a'.repeat(64 * 1024) } });
    expect(huge.status).toBe(431);
    const hugeInvoke = await fetch(gatewayUrl(`/function/${fn('echoit')}`), { method: 'POST', body: 'x', headers: { 'x-huge': 'a'.repeat(64 * 1024) } });
    expect(hugeInvoke.status).toBe(431);
    expect(await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange('NOT-HTTP\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello`)).toMatch(/^HTTP\/1\.1 400/);
    requests += 6;
    await expectServing();
  });

  it('changed no service of the stack, and created none', async () => {
    expect(await swarmState()).toBe(before);
    const { stdout } = await run('docker', ['service', 'ls', '-q', '--filter', `name=${fn('relin')}`]);
    expect(stdout.trim()).toBe('');
  });
});
