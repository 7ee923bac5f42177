// The scaler's HTTP routes: POST /system/alert (AlertManager's webhook) and
// POST /system/scale-function/{name} (manual scaling). Bodies are JSON,
// bounded by SYSTEM_BODY_LIMIT and validated; a bad body changes nothing.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { validate } from '../validation.js';
import { alertPayloadSchema } from './alert-payload.js';
import type { AlertScaler } from './alerts.js';
import type { ScalingContext } from './context.js';
import { scaleManually, scaleRequestSchema } from './manual.js';

export function registerScalingRoutes(router: Router, context: ScalingContext, alerts: AlertScaler): void {
  router.post('/system/alert', async (ctx) => {
    const payload = validate(alertPayloadSchema, await readJson(ctx, context.settings.SYSTEM_BODY_LIMIT));
    const outcomes = await alerts.handle(payload);
    const failed = outcomes.filter((o) => o.action === 'failed');
    // A failure answers 502 so AlertManager retries; the cooldown keeps a
    // retried firing alert from stepping the functions that did scale twice.
    ctx.status = failed.length > 0 ? 502 : 200;
    ctx.body = {
      message:
        failed.length > 0
          ? `scaling failed for ${failed.map((o) => `${o.function}: ${o.reason}`).join('; ')}`
          : `${payload.alerts.length} alert(s) handled`,
      outcomes,
    };
  });

  router.post('/system/scale-function/:name', async (ctx) => {
    const request = validate(scaleRequestSchema, await readJson(ctx, context.settings.SYSTEM_BODY_LIMIT));
    const result = await scaleManually(context, ctx.params.name!, request);
    ctx.status = 202;
    ctx.body = result;
  });
}
