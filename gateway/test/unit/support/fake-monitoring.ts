// Fake Prometheus and AlertManager HTTP servers on 127.0.0.1 for the history
// and overview routes: they record what the gateway asked and answer in the
// real APIs' shapes (Prometheus /api/v1, AlertManager /api/v2).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedQuery {
  path: string;
  params: Record<string, string>;
}

export interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

export interface FakeMonitoring {
  url: string;
  queries: RecordedQuery[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

async function serve(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => handler(req, res, new URL(req.url ?? '/', 'http://fake')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closer(server: Server) {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export interface FakePrometheusOptions {
  /** The series a range query answers, by its PromQL text; unknown queries answer no series. */
  series?: (query: string, params: Record<string, string>) => MatrixSeries[];
  /** Scrape targets of /api/v1/targets. */
  targets?: Array<{ job: string; instance: string; health: string; lastError?: string }>;
  ready?: boolean;
  /** Answer this status and error for every query. */
  failWith?: { status: number; error: string };
  /** Never answer (a hung Prometheus). */
  hang?: boolean;
}

export async function startFakePrometheus(options: FakePrometheusOptions = {}): Promise<FakeMonitoring> {
  const queries: RecordedQuery[] = [];
  const { server, url } = await serve((_req, res, u) => {
    const params = Object.fromEntries(u.searchParams);
    queries.push({ path: u.pathname, params });
    if (options.hang) return;
    if (u.pathname === '/-/ready') {
      res.writeHead(options.ready === false ? 503 : 200);
      res.end(options.ready === false ? 'Service Unavailable' : 'Prometheus Server is Ready.\n');
      return;
    }
    if (options.failWith) {
      json(res, options.failWith.status, { status: 'error', errorType: 'internal', error: options.failWith.error });
      return;
    }
    if (u.pathname === '/api/v1/query_range') {
      json(res, 200, { status: 'success', data: { resultType: 'matrix', result: options.series?.(params.query ?? '', params) ?? [] } });
      return;
    }
    if (u.pathname === '/api/v1/targets') {
      const activeTargets = (options.targets ?? []).map((t) => ({
        labels: { job: t.job, instance: t.instance },
        scrapePool: t.job,
        health: t.health,
        lastError: t.lastError ?? '',
        lastScrape: '2026-01-01T00:00:00Z',
      }));
      json(res, 200, { status: 'success', data: { activeTargets, droppedTargets: [] } });
      return;
    }
    json(res, 404, { status: 'error', error: `no such path ${u.pathname}` });
  });
  return { url, queries, close: closer(server) };
}

export interface FakeAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
}

export async function startFakeAlertManager(alerts: FakeAlert[] = []): Promise<FakeMonitoring> {
  const queries: RecordedQuery[] = [];
  const { server, url } = await serve((_req, res, u) => {
    queries.push({ path: u.pathname, params: Object.fromEntries(u.searchParams) });
    if (u.pathname === '/-/ready') {
      res.writeHead(200);
      res.end('OK');
      return;
    }
    if (u.pathname === '/api/v2/alerts') {
      json(
        res,
        200,
        alerts.map((a, i) => ({
          labels: a.labels,
          annotations: a.annotations ?? {},
          startsAt: a.startsAt,
          endsAt: '2026-01-01T01:00:00Z',
          updatedAt: a.startsAt,
          fingerprint: `f${i}`,
          receivers: [{ name: 'gateway' }],
          status: { state: 'active', silencedBy: [], inhibitedBy: [] },
          generatorURL: 'http://prometheus:9090/graph',
        })),
      );
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  return { url, queries, close: closer(server) };
}

/** An address on 127.0.0.1 where nothing listens (a stopped Prometheus). */
export async function closedUrl(): Promise<string> {
  const { server, url } = await serve(() => {});
  await closer(server)();
  return url;
}
