// Secrets (OpenFaaS shapes): GET /system/secrets[?namespace=] answers
// [{name, namespace}] (never a value); POST and PUT /system/secrets take
// {name, namespace, value} or {name, namespace, rawValue} (base64); DELETE
// takes {name, namespace}. PUT rolls every function that uses the secret
// onto the new value; DELETE of a secret in use is a 409 naming the functions.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { readJson } from '../http/json-body.js';
import { secretRefSchema, secretSchema, validate } from '../validation.js';
import type { RouteDeps } from './deps.js';
import { namespaceParam } from './function-ref.js';

export function registerSecrets(router: Router, deps: RouteDeps): void {
  const namespaceOf = (ctx: Context, fromBody: string | undefined) => namespaceParam(ctx) ?? (fromBody || deps.config.DEFAULT_NAMESPACE);

  router.get('/system/secrets', async (ctx) => {
    ctx.body = await deps.provider.listSecrets(namespaceOf(ctx, undefined));
  });

  const write = (create: boolean) => async (ctx: Context) => {
    const body = validate(secretSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    const secret = {
      name: body.name,
      namespace: namespaceOf(ctx, body.namespace),
      value: body.value !== undefined ? Buffer.from(body.value, 'utf8') : Buffer.from(body.rawValue!, 'base64'),
    };
    if (create) await deps.provider.createSecret(secret);
    else await deps.provider.updateSecret(secret);
    ctx.status = create ? 201 : 202;
    ctx.body = { name: secret.name, namespace: secret.namespace };
  };
  router.post('/system/secrets', write(true));
  router.put('/system/secrets', write(false));

  router.delete('/system/secrets', async (ctx) => {
    const body = validate(secretRefSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    await deps.provider.deleteSecret({ name: body.name, namespace: namespaceOf(ctx, body.namespace) });
    ctx.status = 202;
    ctx.body = '';
  });
}
