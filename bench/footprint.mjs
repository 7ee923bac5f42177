#!/usr/bin/env node
// The footprint of a function task, for small nodes (Raspberry Pi):
//   - image size, and whether every function image shares the watchdog's
//     layers (so a node pulls the runtime once);
//   - memory of one task (its container's cgroup: usage less inactive file
//     cache, what `docker stats` shows) idle, and its peak under load
//     (32 connections for LOAD_SECONDS), for a classic-mode function (echoit:
//     `cat`) and an HTTP-mode one (markdown).
//
//   node bench/footprint.mjs       (FAAS_REPO, FAAS_TAG: which images [swarmfaas, package version];
//                                   LOAD_SECONDS [5])
//
// Containers run with `docker run` on 127.0.0.1 and are removed at the end.
// Writes bench/results/footprint.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { containerMemory, docker, healthyContainerUrl, MiB, root, sleep, version } from './_support.mjs';

const repo = process.env.FAAS_REPO || 'swarmfaas';
const tag = process.env.FAAS_TAG || version;
const loadSeconds = Number(process.env.LOAD_SECONDS ?? 5);
const image = (name) => `${repo}/${name}:${tag}`;

async function measure(name, payload) {
  const container = `footprint-${name}-${process.pid}`;
  const id = await docker('run', '-d', '--name', container, '-p', '127.0.0.1::8080', image(name));
  try {
    const url = await healthyContainerUrl(container);
    await (await fetch(url, { method: 'POST', body: payload })).arrayBuffer(); // first request: lazy parts loaded
    await sleep(3000);
    const idle = containerMemory(id);
    let peak = idle;
    const sampler = setInterval(() => {
      const now = containerMemory(id);
      if (now.used > peak.used) peak = now;
    }, 50);
    const result = await autocannon({ url, method: 'POST', body: payload, connections: 32, duration: loadSeconds });
    clearInterval(sampler);
    await sleep(1000);
    const after = containerMemory(id);
    return {
      image: image(name),
      idleMiB: MiB(idle.used),
      idleRssMiB: MiB(idle.rss),
      peakUnderLoadMiB: MiB(peak.used),
      peakRssUnderLoadMiB: MiB(peak.rss),
      afterLoadMiB: MiB(after.used),
      requests: result.requests.total,
      non2xx: result.non2xx,
    };
  } finally {
    await docker('rm', '-f', container).catch(() => undefined);
  }
}

const markdownDoc = '# Title\n\nSome *emphasis*, a [link](https://example.com) and `code`.\n\n- one\n- two\n';
const results = { images: {}, tasks: {} };
const functions = ['echoit', 'wordcount', 'base64', 'decodebase64', 'markdown', 'nodeinfo', 'hubstats', 'webhookstash'];
const baseLayers = JSON.parse(await docker('image', 'inspect', '-f', '{{json .RootFS.Layers}}', image('watchdog')));
for (const name of ['watchdog', ...functions]) {
  const inspected = await docker('image', 'inspect', '-f', '{{.Size}} {{json .RootFS.Layers}}', image(name)).catch(() => undefined);
  if (!inspected) continue; // not built with this tag
  const [size, layers] = inspected.split(' ');
  const parsed = JSON.parse(layers);
  results.images[name] = {
    MB: +(Number(size) / 1e6).toFixed(1),
    sharesWatchdogLayers: baseLayers.every((layer, i) => parsed[i] === layer),
  };
}
results.tasks.classic = await measure('echoit', 'Hello, Function as a Service');
results.tasks.http = await measure('markdown', markdownDoc);

console.log(`images (${repo}, tag ${tag}):`);
for (const [name, info] of Object.entries(results.images)) {
  console.log(`  ${name.padEnd(13)} ${String(info.MB).padStart(6)} MB${name === 'watchdog' ? '' : info.sharesWatchdogLayers ? '  (on the watchdog image\'s layers)' : '  (NOT on the watchdog image\'s layers)'}`);
}
console.log('\ntask           idle MiB   peak under load MiB (32 connections)   after MiB   requests');
for (const [mode, r] of Object.entries(results.tasks)) {
  console.log(`${`${mode} (${r.image.split('/').pop()})`.padEnd(22)} ${String(r.idleMiB).padStart(6)}   ${String(r.peakUnderLoadMiB).padStart(8)}   ${String(r.afterLoadMiB).padStart(28)}   ${r.requests}${r.non2xx ? ` (${r.non2xx} not 2xx)` : ''}`);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/footprint.json'), `${JSON.stringify(results, null, 2)}\n`);
