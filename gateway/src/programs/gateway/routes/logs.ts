// GET /system/logs?name=&since=&tail=&follow=: a function's logs as
// newline-delimited JSON ({name, namespace, instance, timestamp, text}), streamed while
// follow=true until the client goes away.
import { once } from 'node:events';
import type Router from '@koa/router';
import { HttpError } from '../http/errors.js';
import { NAMESPACE_NAME, parseFunctionName } from '../../../core/functions/names.js';
import type { LogQuery } from '../provider/types.js';
import type { RouteDeps } from './deps.js';

const FIRST_ENTRY_WAIT_MS = 300;

const delay = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref());

export function parseLogQuery(query: Record<string, string | string[] | undefined>, defaultNamespace: string): LogQuery {
  const one = (key: string) => {
    const value = query[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const name = one('name');
  if (!name) throw new HttpError(400, 'invalid request: name: the function name is required');
  const namespace = one('namespace');
  if (namespace && !NAMESPACE_NAME.test(namespace)) throw new HttpError(400, `invalid request: namespace: ${JSON.stringify(namespace)} is not a namespace name`);
  const ref = parseFunctionName(name, defaultNamespace);
  const result: LogQuery = { name: ref.name, namespace: namespace && !name.includes('.') ? namespace : ref.namespace, follow: false };
  const since = one('since');
  if (since) {
    const date = new Date(since);
    if (Number.isNaN(date.getTime())) throw new HttpError(400, 'invalid request: since: expected an RFC 3339 time');
    result.since = date;
  }
  const tail = one('tail');
  if (tail !== undefined && tail !== '') {
    if (!/^-?\d+$/.test(tail)) throw new HttpError(400, 'invalid request: tail: expected a whole number');
    // OpenFaaS uses -1 for "all lines".
    if (Number(tail) >= 0) result.tail = Number(tail);
  }
  const follow = one('follow');
  if (follow !== undefined && follow !== '') {
    if (!/^(true|false|1|0)$/i.test(follow)) throw new HttpError(400, 'invalid request: follow: expected true or false');
    result.follow = /^(true|1)$/i.test(follow);
  }
  return result;
}

export function registerLogs(router: Router, deps: RouteDeps): void {
  router.get('/system/logs', async (ctx) => {
    const query = parseLogQuery(ctx.query, deps.config.DEFAULT_NAMESPACE);
    const entry = deps.functions.get(query) ?? (await deps.functions.refresh(query));
    if (!entry) throw new HttpError(404, `function ${query.name} not found`);

    const abort = new AbortController();
    const res = ctx.res;
    res.once('close', () => abort.abort());
    const entries = deps.provider.logs(query, abort.signal)[Symbol.asyncIterator]();
    // Wait briefly for the first entry, so that a provider error still becomes
    // a proper status; a followed stream with nothing to say yet gets its
    // headers anyway, so the client knows it is connected.
    const pending = entries.next();
    const first = await Promise.race([pending, delay(FIRST_ENTRY_WAIT_MS)]);
    if (first === undefined && !query.follow) await pending;

    ctx.respond = false;
    if (query.follow) ctx.req.socket.setTimeout(0);
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    try {
      for (let item = first ?? (await pending); !item.done; item = await entries.next()) {
        if (!res.write(JSON.stringify(item.value) + '\n')) await once(res, 'drain', { signal: abort.signal });
      }
    } catch (error) {
      if (!abort.signal.aborted) deps.log.warn({ err: error, function: query.name }, 'log stream failed');
    } finally {
      abort.abort();
      res.end();
    }
  });
}
