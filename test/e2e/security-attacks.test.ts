// The attacks found by trying to break a deployed stack, each tried again on
// the real stack: what it tried and what happened print as "[security] ..."
// lines. Secret reads by naming another secret: namespaces-secrets.test.ts.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openBrowser } from './support/browser.js';
import { containersOf, deployFunction, docker, invoke, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, image, listFunctions, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';
import { stackSettings } from './setup/stack.js';

function report(line: string): void {
  process.stderr.write(`[security] ${line}\n`);
}

const created = new Set<string>();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  for (const name of created) await removeFunction(name);
});

async function deployRaw(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status === 202) created.add(String(body.service));
  return { status: res.status, text };
}

describe('posing as the stack', () => {
  it('refuses functions named after the stack\'s services or on its monitoring network; Prometheus scrapes only the real gateway', async () => {
    const stack = inject('stackName');
    for (const name of ['gateway', 'alertmanager', 'prometheus']) {
      const res = await deployRaw({ service: name, image: image('echoit') });
      report(`deploy a function named ${name}: ${res.status} ${res.text}`);
      expect(res.status).toBe(400);
    }
    const onMonitoring = await deployRaw({ service: fn('impostor'), image: image('echoit'), network: `${stack}_monitoring` });
    report(`deploy a function on ${stack}_monitoring: ${onMonitoring.status} ${onMonitoring.text}`);
    expect(onMonitoring.status).toBe(400);
    expect(onMonitoring.text).toMatch(/network: /);
    // Nothing else can join the monitoring network either.
    const attach = await docker('network', 'inspect', '--format', '{{.Attachable}}', `${stack}_monitoring`);
    expect(attach).toBe('false');
    const targets = (await (await monitoringFetch('prometheus', '/api/v1/targets?state=active')).json()) as {
      data: { activeTargets: Array<{ labels: { job: string; instance: string } }> };
    };
    const gateways = targets.data.activeTargets.filter((t) => t.labels.job === 'gateway').map((t) => t.labels.instance);
    const tasks = (await containersOf(`${stack}_gateway`)).length;
    report(`Prometheus scrapes ${gateways.length} gateway target(s) (${gateways.join(', ')}); the gateway has ${tasks} task(s)`);
    expect(gateways.length).toBe(tasks);
  });
});

describe('Prometheus and AlertManager are not open to anyone who reaches the host', () => {
  it('publish no port; alerts cannot be posted without the gateway\'s credentials, from the host or from a function', async () => {
    const { prometheusPort, alertmanagerPort } = stackSettings();
    const refused = async (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
    expect(await refused(prometheusPort)).toBe(true);
    expect(await refused(alertmanagerPort)).toBe(true);
    const alert = JSON.stringify([{ labels: { alertname: 'APIHighInvocationRate', function_name: fn('echoit') } }]);
    const anonymous = await fetch(gatewayUrl('/system/alertmanager/api/v2/alerts'), { method: 'POST', body: alert, headers: { 'content-type': 'application/json' } });
    const webhook = await fetch(gatewayUrl('/system/alert'), { method: 'POST', body: '{"alerts":[]}', headers: { 'content-type': 'application/json' } });
    // From inside a function: the node's address (the task's default gateway) on AlertManager's old port.
    const prober = fn('secprobe');
    await deployFunction({ service: prober, image: image('echoit'), envProcess: `sh -c 'gw=$(ip route | awk "/^default/ {print \\$3; exit}"); timeout 3 wget -q -O - --post-data x http://$gw:${alertmanagerPort}/api/v2/alerts >/dev/null 2>&1 && echo reached || echo unreachable'` });
    created.add(prober);
    const fromFunction = (await invoke(prober, '')).text.trim();
    report(`posting alerts: 127.0.0.1:${alertmanagerPort} refused, through the gateway without credentials ${anonymous.status}, the webhook without credentials ${webhook.status}, from a function to the node's port ${alertmanagerPort}: ${fromFunction}`);
    expect(anonymous.status).toBe(401);
    expect(webhook.status).toBe(401);
    expect(fromFunction).toBe('unreachable');
    // With the credentials, both are there.
    expect((await monitoringFetch('prometheus', '/-/healthy')).status).toBe(200);
    expect((await monitoringFetch('alertmanager', '/-/healthy')).status).toBe(200);
  });
});

describe('a function\'s page cannot drive the API with the user\'s browser credentials', () => {
  it('a page elsewhere posting a script to a function: the script runs sandboxed and its API call is refused', async () => {
    const page = fn('htmlpage');
    // Echoes its body as HTML: the worst a function can do.
    await deployFunction({ service: page, image: image('echoit'), envVars: { content_type: 'text/html' } });
    created.add(page);
    const stolen = fn('stolen');
    const script = `<html><body><p id="x">attack</p><script>
      fetch('/system/functions', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: '${stolen}', image: '${image('echoit')}' }) })
        .then((r) => { document.title = 'api ' + r.status; }, (e) => { document.title = 'api blocked ' + e.name; });
    </script></body></html>`;
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="POST" enctype="text/plain" action="${gatewayUrl(`/function/${page}`)}">
        <input type="hidden" name='${script.replace(/'/g, '&#39;')}' value=""></form>
        <form id="g" method="POST" enctype="text/plain" action="${gatewayUrl('/system/functions')}">
        <input type="hidden" name='{"service":"${stolen}2","image":"${image('echoit')}","x":"' value='"}'></form>
        <script>document.getElementById(location.hash === '#api' ? 'g' : 'f').submit();</script>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => attacker.close(() => r(undefined))));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}/`;
    const [user, password] = inject('credentials').split(':') as [string, string];
    const browser = await openBrowser({ httpCredentials: { username: user, password } });
    cleanups.push(() => browser.close());
    // The user is logged in to the UI (the browser has the credentials).
    await browser.page.goto(gatewayUrl('/ui/'));
    await browser.page.goto(attackerUrl);
    await browser.page.waitForURL(gatewayUrl(`/function/${page}`), { timeout: 15_000 });
    await browser.page.waitForFunction("document.title.startsWith('api')", undefined, { timeout: 15_000 }).catch(() => undefined);
    const scriptOutcome = await browser.page.title();
    const csp = (await fetch(gatewayUrl(`/function/${page}`), { method: 'POST', body: 'x' })).headers.get('content-security-policy');
    await browser.page.goto(`${attackerUrl}#api`);
    await browser.page.waitForLoadState('load');
    const formOutcome = await browser.page.content();
    const names = (await listFunctions()).map((f) => f.name);
    report(`script on a function's page: "${scriptOutcome}" (its answer's CSP: ${csp}); a form from another site to /system/functions: "${formOutcome.replace(/<[^>]+>/g, '').trim().slice(0, 80)}"; deployed: ${names.filter((n) => n.startsWith(stolen)).length}`);
    expect(csp).toMatch(/^sandbox/);
    expect(names.some((n) => n.startsWith(stolen))).toBe(false);
  });
});

describe('the gateway never proxies to itself, or to anything but the named function\'s tasks', () => {
  it('answers 404 for the stack\'s gateway and a path that repeats it, with no descriptor growth', async () => {
    const stack = inject('stackName');
    const [gatewayContainer] = await containersOf(`${stack}_gateway`);
    const fds = async () => Number(await docker('exec', gatewayContainer!, 'sh', '-c', 'ls /proc/1/fd | wc -l'));
    const before = await fds();
    const deep = `/function/${stack}_gateway${'/function/gateway'.repeat(900)}`;
    const answers = await Promise.all(Array.from({ length: 15 }, () => fetch(gatewayUrl(deep), { method: 'POST', body: 'x' }).then((r) => r.status)));
    const after = await fds();
    report(`15 x /function/${stack}_gateway + 900 x /function/gateway: ${[...new Set(answers)].join(',')}; gateway descriptors ${before} -> ${after}`);
    expect(new Set(answers)).toEqual(new Set([404]));
    expect(after - before).toBeLessThan(50);
  });
});

describe('a gateway acts only on its own functions', () => {
  it('another stack\'s function (same swarm, own network) is invisible: list, invoke, scale, delete, metrics', async () => {
    const network = `${inject('stackName')}-other-stack`;
    const foreign = 'otherstack_echoit';
    await docker('network', 'create', '--driver', 'overlay', '--attachable', network);
    cleanups.push(() => docker('network', 'rm', network));
    await docker('service', 'create', '--detach', '--quiet', '--name', foreign, '--label', 'function=true', '--network', network, image('echoit'));
    cleanups.push(() => docker('service', 'rm', foreign));
    await waitFor(`${foreign} running`, async () => ((await containersOf(foreign)).length === 1 ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 2_000)); // more than a WATCH_INTERVAL
    const listed = (await listFunctions()).some((f) => f.name === foreign);
    const invoked = (await invoke(foreign, 'x')).status;
    const scaled = (await systemFetch(`/system/scale-function/${foreign}`, { method: 'POST', body: JSON.stringify({ replicas: 3 }) })).status;
    const deleted = (await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: foreign }) })).status;
    const metrics = await (await fetch(gatewayUrl('/metrics'))).text();
    report(`another stack's function: listed ${listed}, invoke ${invoked}, scale ${scaled}, delete ${deleted}, in /metrics ${metrics.includes(foreign)}`);
    expect({ listed, invoked, scaled, deleted, inMetrics: metrics.includes(foreign) }).toEqual({ listed: false, invoked: 404, scaled: 404, deleted: 404, inMetrics: false });
    expect(await docker('service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', foreign)).toBe('1');
  });
});

describe('functions deployed through the API are confined', () => {
  it('an image that says USER root runs as the confined user, with no capability, a read-only root and the limits', async () => {
    const name = fn('rootimage');
    const tag = `${image('echoit').split(':')[0]}-root-e2e:1`;
    // A tiny image FROM echoit that asks for root.
    const { spawn } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => {
      const build = spawn('docker', ['build', '-q', '-t', tag, '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
      build.stdin.end(`FROM ${image('echoit')}\nUSER root\n`);
      build.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker build exited ${code}`))));
    });
    cleanups.push(() => docker('image', 'rm', '-f', tag));
    await deployFunction({ service: name, image: tag, envProcess: "sh -c 'id -u; grep CapEff /proc/self/status; touch /root-write 2>&1 | head -1'" });
    created.add(name);
    const answer = (await invoke(name, '')).text;
    const spec = JSON.parse(await docker('service', 'inspect', '--format', '{{json .Spec.TaskTemplate}}', name)) as {
      ContainerSpec: { User?: string; ReadOnly?: boolean; CapabilityDrop?: string[] };
      Resources: { Limits: { MemoryBytes?: number; Pids?: number } };
    };
    report(`USER root image: process says "${answer.replace(/\n/g, ' | ')}"; spec user ${spec.ContainerSpec.User}, read-only ${spec.ContainerSpec.ReadOnly}, capabilities dropped ${spec.ContainerSpec.CapabilityDrop}, memory ${spec.Resources.Limits.MemoryBytes}, pids ${spec.Resources.Limits.Pids}`);
    expect(answer.split('\n')[0]).toBe('10001');
    expect(answer).toMatch(/CapEff:\s+0000000000000000/);
    expect(answer).toMatch(/Read-only file system/);
    expect(spec.ContainerSpec).toMatchObject({ User: '10001:10001', ReadOnly: true, CapabilityDrop: ['ALL'] });
    expect(spec.Resources.Limits).toMatchObject({ MemoryBytes: 256 * 1024 ** 2, Pids: 256 });
  });
});

describe('idle connections do not take the published port down', () => {
  it('5,000 idle keep-alive connections: the gateway keeps at most MAX_CONNECTIONS, closes idle ones, and its port keeps working', async () => {
    const { gatewayPort } = stackSettings();
    const [taskBefore] = await containersOf(`${inject('stackName')}_gateway`);
    const sockets: Array<ReturnType<typeof connect>> = [];
    let closedByGateway = 0;
    cleanups.push(async () => sockets.forEach((s) => s.destroy()));
    const started = Date.now();
    for (let i = 0; i < 5_000; i++) {
      const socket = connect(gatewayPort, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // read the answer, so the gateway's closing (FIN) is seen and 'close' fires
      socket.on('close', () => closedByGateway++);
      socket.once('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
      sockets.push(socket);
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const during = Date.now();
    const fresh = await fetch(gatewayUrl('/healthz'), { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, (e: Error) => e.name);
    const freshMs = Date.now() - during;
    // Idle held connections close after the gateway's KEEP_ALIVE_TIMEOUT (5 s, plus Node's 1 s buffer) from their answer.
    const closeDeadline = Date.now() + 20_000;
    while (closedByGateway < sockets.length && Date.now() < closeDeadline) await new Promise((r) => setTimeout(r, 250));
    const allClosedAfter = Date.now() - during;
    // On a connection of its own: fetch's pool would reuse the keep-alive connection of the request above, which the
    // gateway closes after its idle time, and a reuse at that moment fails whatever the port's state.
    const later = await postOnNewConnection(gatewayUrl(`/function/${fn('echoit')}`), 'still here');
    const [taskAfter] = await containersOf(`${inject('stackName')}_gateway`);
    report(`5,000 idle keep-alive connections opened in ${((during - started) / 1000).toFixed(1)} s: a new request while they were held got ${fresh} in ${freshMs} ms (${fresh === 200 ? 'a slot was free' : 'the gateway was at MAX_CONNECTIONS'}); ${closedByGateway} of ${sockets.length} closed by the gateway ${allClosedAfter} ms after that request; an invocation after: "${later}", the same gateway task: ${taskBefore === taskAfter}`);
    expect(closedByGateway).toBe(sockets.length);
    // Docker's port proxy did not run out of descriptors (it would have stopped for good): the same task answers.
    expect(later).toBe('still here');
    expect(taskAfter).toBe(taskBefore);
  });
});

/** A POST on a new connection (no pool), answered within 5 s: the answer's text, or what went wrong. */
function postOnNewConnection(url: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'POST', agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
      res.on('error', (e) => resolve(`answer broke off: ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`failed: ${e.code ?? ''} ${e.message}`));
    req.end(body);
  });
}
