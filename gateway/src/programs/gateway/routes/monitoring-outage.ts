// How the monitoring routes answer while Prometheus or AlertManager is down:
// 503 with the reason (the UI shows it and keeps its live part going), and
// one warning in the log per outage rather than one per request.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { MonitoringUnavailableError } from '../prometheus/client.js';

export function monitoringOutage(log: Logger, service: string) {
  let down = false;
  return {
    /** Runs `work`; when the service is unavailable, answers 503 and resolves undefined. */
    async guard<T>(ctx: Context, work: () => Promise<T>): Promise<T | undefined> {
      try {
        const result = await work();
        if (down) log.info(`${service} answers again`);
        down = false;
        return result;
      } catch (error) {
        if (!(error instanceof MonitoringUnavailableError)) throw error;
        if (!down) log.warn({ reason: error.message }, `${service} is unavailable: history answers 503 until it is back`);
        down = true;
        ctx.status = 503;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.set('cache-control', 'no-store');
        ctx.body = error.message;
        return undefined;
      }
    },
  };
}
