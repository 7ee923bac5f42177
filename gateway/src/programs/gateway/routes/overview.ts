// GET /system/overview: the stack's health for the UI's overview page: the
// gateway, Prometheus (ready, and whether it scrapes the gateway) and
// AlertManager (ready), each with the URL the gateway reaches it at, and the
// alerts firing now (AlertManager API v2). Always 200: a service that is down
// is part of the answer, not an error of it.
import type Router from '@koa/router';
import { AlertManagerClient, MonitoringUnavailableError, type ActiveAlert, type ScrapeTarget } from '../prometheus/client.js';
import type { RouteDeps } from './deps.js';

export interface ServiceHealth {
  url: string;
  up: boolean;
  /** Why it is not up. */
  error?: string;
}

export interface Overview {
  gateway: { up: true; version: string; functions: number };
  prometheus: ServiceHealth & { gatewayTargets?: ScrapeTarget[] };
  alertmanager: ServiceHealth;
  /** Firing alerts; null when AlertManager could not be asked. */
  alerts: OverviewAlert[] | null;
}

export interface OverviewAlert {
  name: string;
  /** The function_name label, when the alert is about a function. */
  function?: string;
  severity?: string;
  state: string;
  startsAt: string;
  summary?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function alertOf(alert: ActiveAlert): OverviewAlert {
  const { labels, annotations } = alert;
  const summary = annotations.summary ?? annotations.description ?? annotations.message;
  return {
    name: labels.alertname ?? '(unnamed)',
    ...(labels.function_name ? { function: labels.function_name } : {}),
    ...(labels.severity ? { severity: labels.severity } : {}),
    state: alert.state,
    startsAt: alert.startsAt,
    ...(summary ? { summary } : {}),
    labels,
    annotations,
  };
}

export function registerOverview(router: Router, deps: RouteDeps): void {
  const { prometheus } = deps;
  const alertmanager = new AlertManagerClient(deps.config.ALERTMANAGER_URL);

  router.get('/system/overview', async (ctx) => {
    const [promReady, targets, amReady, alerts] = await Promise.all([
      prometheus.ready(),
      prometheus.targets('gateway').catch((error: unknown) => unavailable(error)),
      alertmanager.ready(),
      alertmanager.activeAlerts().catch((error: unknown) => unavailable(error)),
    ]);
    const overview: Overview = {
      gateway: { up: true, version: deps.version.release, functions: deps.functions.list().length },
      prometheus: { url: prometheus.url, ...promReady, ...(Array.isArray(targets) ? { gatewayTargets: targets } : {}) },
      alertmanager: { url: alertmanager.url, ...amReady },
      alerts: Array.isArray(alerts) ? alerts.map(alertOf).sort((a, b) => a.startsAt.localeCompare(b.startsAt)) : null,
    };
    ctx.set('cache-control', 'no-store');
    ctx.body = overview;
  });
}

function unavailable(error: unknown): MonitoringUnavailableError {
  if (error instanceof MonitoringUnavailableError) return error;
  throw error;
}
