// POST /system/alert: AlertManager's webhook. The body is JSON, bounded by
// SYSTEM_BODY_LIMIT and validated; a bad body changes nothing. The scaler
// decides what each alert does.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { alertPayloadSchema } from '../scaling/alert-payload.js';
import { validate } from '../validation.js';
import type { RouteDeps } from './deps.js';

export function registerAlert(router: Router, deps: RouteDeps): void {
  router.post('/system/alert', async (ctx) => {
    const payload = validate(alertPayloadSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    const outcomes = await deps.scaler.handleAlerts(payload);
    const failed = outcomes.filter((o) => o.action === 'failed');
    // A failure answers 502 so AlertManager retries; the cooldown keeps a
    // retried firing alert from stepping the functions that did scale twice.
    ctx.status = failed.length > 0 ? 502 : 200;
    ctx.body = {
      message:
        failed.length > 0 ? `scaling failed for ${failed.map((o) => `${o.function}: ${o.reason}`).join('; ')}` : `${payload.alerts.length} alert(s) handled`,
      outcomes,
    };
  });
}
