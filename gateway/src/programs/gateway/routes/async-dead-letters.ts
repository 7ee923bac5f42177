// The queue of asynchronous calls as users see it (behind /system auth):
//   GET    /system/async/queues                     calls waiting (or being worked on) and dead letters, per function
//   DELETE /system/async/queues/{name}              drop the calls queued for one function (200 {purged})
//   GET    /system/async/dead-letters               dead letters, oldest first (?function=&namespace=&after=&limit=)
//   GET    /system/async/dead-letters/{id}          one, with its body (base64)
//   POST   /system/async/dead-letters/{id}/replay   queue its call again (202), the dead letter goes
//   DELETE /system/async/dead-letters/{id}          forget it (204)
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AsyncCalls } from '../../../queue/async-calls.js';
import { keyOf, type FunctionRef } from '../provider/types.js';
import { NAMESPACE_NAME, parseFunctionName, qualifiedName } from '../../../core/functions/names.js';
import { HttpError } from '../http/errors.js';
import type { AsyncQueueAnswer, PurgeAnswer, ReplayAnswer } from '../api/answers.js';
import type { RouteDeps } from './deps.js';

const MAX_LIST = 1000;

export function registerAsyncDeadLetters(router: Router, deps: RouteDeps): void {
  const need = (): AsyncCalls => {
    if (!deps.queue) throw new HttpError(503, 'asynchronous invocations are off (NATS_URL=none)');
    return deps.queue.calls;
  };
  const defaultNamespace = deps.config.DEFAULT_NAMESPACE;

  router.get('/system/async/queues', async (ctx) => {
    const q = need();
    const [queued, dead] = await Promise.all([q.depths(), q.deadCounts()]);
    const rows = new Map<string, AsyncQueueAnswer>();
    const row = (ref: FunctionRef) => {
      const key = keyOf(ref);
      let found = rows.get(key);
      if (!found) {
        const { messages, bytes } = deps.queue!.limitsOf(ref);
        rows.set(key, (found = { name: ref.name, namespace: ref.namespace, queued: 0, queuedBytes: 0, deadLetters: 0, limits: { messages, bytes } }));
      }
      return found;
    };
    for (const { status } of deps.functions.list()) row(status);
    for (const { ref, messages, bytes } of queued) Object.assign(row(ref), { queued: messages, queuedBytes: bytes });
    for (const { ref, count } of dead) row(ref).deadLetters = count;
    ctx.body = [...rows.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  });

  router.delete('/system/async/queues/:name', async (ctx) => {
    const q = need();
    const ref = parseFunctionName(ctx.params.name!, defaultNamespace);
    const namespace = ctx.query.namespace;
    if (namespace !== undefined && (Array.isArray(namespace) || !NAMESPACE_NAME.test(namespace))) throw new HttpError(400, 'namespace must be one lower-case DNS label');
    const target = namespace && !ctx.params.name!.includes('.') ? { ...ref, namespace } : ref;
    const purged = await q.purge(target);
    deps.log.info({ function: qualifiedName(target, defaultNamespace), purged }, 'queued calls dropped');
    ctx.body = { name: target.name, namespace: target.namespace, purged } satisfies PurgeAnswer;
  });

  router.get('/system/async/dead-letters', async (ctx) => {
    const q = need();
    const limit = optionalInteger(ctx, 'limit', 1, MAX_LIST) ?? 100;
    const after = optionalInteger(ctx, 'after', 0, Number.MAX_SAFE_INTEGER);
    const ref = functionFilter(ctx, defaultNamespace);
    ctx.body = await q.listDeadLetters({ limit, ...(after !== undefined ? { after } : {}), ...(ref ? { ref } : {}) });
  });

  router.get('/system/async/dead-letters/:id', async (ctx) => {
    const found = await need().getDeadLetter(idOf(ctx));
    if (!found) throw new HttpError(404, `no dead letter ${ctx.params.id}`);
    ctx.body = { ...found.letter, headers: found.call.headers, body: Buffer.from(found.call.body).toString('base64') };
  });

  router.post('/system/async/dead-letters/:id/replay', async (ctx) => {
    const id = idOf(ctx);
    const found = await need().getDeadLetter(id);
    const letter = found && (await need().replayDeadLetter(id, deps.queue!.limitsOf(found.call.ref)));
    if (!letter) throw new HttpError(404, `no dead letter ${id}`);
    deps.log.info({ id, callId: letter.callId, function: qualifiedName({ name: letter.function, namespace: letter.namespace }, defaultNamespace) }, 'dead letter replayed');
    ctx.status = 202;
    ctx.set('X-Call-Id', letter.callId);
    ctx.body = { replayed: id, callId: letter.callId, function: letter.function, namespace: letter.namespace } satisfies ReplayAnswer;
  });

  router.delete('/system/async/dead-letters/:id', async (ctx) => {
    const id = idOf(ctx);
    if (!(await need().deleteDeadLetter(id))) throw new HttpError(404, `no dead letter ${id}`);
    ctx.status = 204;
  });
}

function idOf(ctx: Context): number {
  const text = String(ctx.params.id);
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new HttpError(400, `a dead letter's id is a positive whole number, got ${JSON.stringify(text.slice(0, 50))}`);
  return Number(text);
}

function optionalInteger(ctx: Context, name: string, min: number, max: number): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0]! : raw;
  if (!/^\d{1,16}$/.test(text) || Number(text) < min || Number(text) > max) throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 50))}`);
  return Number(text);
}

/** ?function=name[.namespace] and ?namespace=: the dead letters of one function. */
function functionFilter(ctx: Context, defaultNamespace: string): FunctionRef | undefined {
  const fn = ctx.query.function;
  const ns = ctx.query.namespace;
  if (Array.isArray(fn) || Array.isArray(ns)) throw new HttpError(400, 'give function and namespace once each');
  if (ns !== undefined && !NAMESPACE_NAME.test(ns)) throw new HttpError(400, `namespace must be a lower-case DNS label, got ${JSON.stringify(ns.slice(0, 70))}`);
  if (fn === undefined || fn === '') {
    if (ns !== undefined) throw new HttpError(400, 'namespace filters only with function');
    return undefined;
  }
  const ref = parseFunctionName(fn, defaultNamespace);
  return ns !== undefined && !fn.includes('.') ? { ...ref, namespace: ns } : ref;
}
