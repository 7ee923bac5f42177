/**
 * HTTP mode: each request is proxied, over kept-alive connections, to the one
 * long-running function process at upstream_url. The answer streams through
 * as it comes; exec_timeout bounds the wait for it (504).
 */
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { WatchdogConfig } from './config.js';
import type { Exchange } from './exchange.js';
import type { UpstreamProcess } from './upstream-process.js';

// Headers that describe one connection, not the message (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export function httpHandler(config: WatchdogConfig, upstream: UpstreamProcess) {
  const url = config.upstreamUrl!;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const basePath = url.pathname.replace(/\/$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });
  const execSeconds = config.execTimeoutMs / 1000;

  async function handle(ex: Exchange): Promise<void> {
    if (!upstream.isReady) {
      // Wait for a (re)start, within exec_timeout when there is one.
      const waited = await Promise.race([
        upstream.ready().then(() => true),
        new Promise<boolean>((resolve) => {
          if (config.execTimeoutMs > 0) setTimeout(() => resolve(false), config.execTimeoutMs).unref();
          ex.signal.addEventListener('abort', () => resolve(false), { once: true });
        }),
      ]);
      if (ex.signal.aborted) return;
      if (!waited) return ex.reply(503, 'the function process is not ready\n');
    }

    const { req, res } = ex;
    return new Promise<void>((resolve) => {
      const outgoing = request({
        agent,
        host,
        port,
        method: req.method,
        path: basePath + (req.url ?? '/'),
        headers: forwardable(req.headers),
      });
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        ex.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        outgoing.destroy();
        finish();
      };
      ex.signal.addEventListener('abort', onAbort, { once: true });
      if (config.execTimeoutMs > 0) {
        timer = setTimeout(() => {
          outgoing.destroy();
          if (!res.headersSent) ex.reply(504, `exec_timeout of ${execSeconds}s exceeded waiting for the function\n`);
          else res.destroy();
          finish();
        }, config.execTimeoutMs);
      }
      outgoing.on('error', (err) => {
        if (ex.signal.aborted || res.writableEnded) return finish();
        if (!res.headersSent) ex.reply(502, `the function process did not answer: ${err.message}\n`);
        else res.destroy();
        finish();
      });
      outgoing.on('response', (answer) => {
        clearTimeout(timer);
        if (!ex.head(answer.statusCode ?? 502, forwardable(answer.headers))) {
          answer.resume();
          return finish();
        }
        answer.pipe(res);
        answer.once('end', finish);
        answer.once('error', () => {
          res.destroy();
          finish();
        });
      });
      req.pipe(outgoing);
    });
  }

  return { handle, close: () => agent.destroy() };
}
