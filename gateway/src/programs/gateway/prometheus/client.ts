// The gateway's HTTP client for Prometheus (range queries, readiness, scrape
// targets) and AlertManager (API v2 alerts, readiness). Every call gives up
// after a short timeout: the UI asks for history on each page, and a
// monitoring stack that is down must cost it a quick "unavailable", never a
// hanging request.

/** Longest wait for Prometheus or AlertManager to answer. */
export const MONITORING_TIMEOUT_MS = 3_000;

/** Prometheus or AlertManager did not answer, or answered something unusable. */
export class MonitoringUnavailableError extends Error {
  override readonly name = 'MonitoringUnavailableError';
}

/** One series of a range query: its labels and its [unix seconds, value] samples. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, number]>;
}

export interface ScrapeTarget {
  job: string;
  instance: string;
  health: string;
  lastError: string;
  lastScrape: string;
}

/** An alert as AlertManager's API v2 lists it (the fields the gateway uses). */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  state: string;
}

/** GET a JSON document from a monitoring service; every failure becomes a MonitoringUnavailableError that says what happened. */
async function getJson(service: string, base: string, path: string, timeoutMs: number): Promise<unknown> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    throw new MonitoringUnavailableError(`${service} at ${base} did not answer: ${reasonOf(error, timeoutMs)}`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    throw new MonitoringUnavailableError(`${service} at ${base} answered ${res.status} to ${url.pathname}: ${summary(errorText(text))}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MonitoringUnavailableError(`${service} at ${base} answered ${url.pathname} with something that is not JSON: ${summary(text)}`);
  }
}

/** True when GET <base>/-/ready answers 200 within the timeout; otherwise the reason. */
async function readiness(service: string, base: string, timeoutMs: number): Promise<{ up: true } | { up: false; error: string }> {
  const url = new URL('-/ready', base.endsWith('/') ? base : `${base}/`);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { up: true } : { up: false, error: `${service} at ${base} answered ${res.status}: not ready` };
  } catch (error) {
    return { up: false, error: `${service} at ${base} did not answer: ${reasonOf(error, timeoutMs)}` };
  }
}

export class PrometheusClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = MONITORING_TIMEOUT_MS,
  ) {}

  /** A range query; start and end in unix seconds, step in seconds. NaN and infinite samples are dropped. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) });
    const body = await getJson('Prometheus', this.url, `api/v1/query_range?${params}`, this.timeoutMs);
    const data = successData(body);
    if (!data || typeof data !== 'object' || (data as { resultType?: unknown }).resultType !== 'matrix' || !Array.isArray((data as { result?: unknown }).result)) {
      throw new MonitoringUnavailableError(`Prometheus at ${this.url} answered a range query with no matrix`);
    }
    return ((data as { result: unknown[] }).result).map(parseSeries);
  }

  /** An instant query: each series' labels and value (NaN and infinite values dropped). */
  async query(query: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const body = await getJson('Prometheus', this.url, `api/v1/query?${new URLSearchParams({ query })}`, this.timeoutMs);
    const data = successData(body) as { resultType?: unknown; result?: unknown } | undefined;
    if (!data || data.resultType !== 'vector' || !Array.isArray(data.result)) {
      throw new MonitoringUnavailableError(`Prometheus at ${this.url} answered an instant query with no vector`);
    }
    return data.result
      .map((raw) => {
        const r = (raw ?? {}) as { metric?: unknown; value?: unknown };
        const value = Array.isArray(r.value) ? Number(r.value[1]) : NaN;
        return { metric: stringRecord(r.metric), value };
      })
      .filter((r) => Number.isFinite(r.value));
  }

  /** The scrape targets of one job, as Prometheus sees them now. */
  async targets(job: string): Promise<ScrapeTarget[]> {
    const body = await getJson('Prometheus', this.url, 'api/v1/targets?state=active', this.timeoutMs);
    const data = successData(body) as { activeTargets?: unknown } | undefined;
    const active = Array.isArray(data?.activeTargets) ? data.activeTargets : [];
    return active
      .map((raw) => {
        const t = (raw ?? {}) as Record<string, unknown>;
        const labels = (t.labels ?? {}) as Record<string, unknown>;
        return {
          job: String(labels.job ?? (t.scrapePool as string | undefined) ?? ''),
          instance: String(labels.instance ?? ''),
          health: String(t.health ?? 'unknown'),
          lastError: String(t.lastError ?? ''),
          lastScrape: String(t.lastScrape ?? ''),
        };
      })
      .filter((t) => t.job === job);
  }

  ready() {
    return readiness('Prometheus', this.url, this.timeoutMs);
  }
}

export class AlertManagerClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = MONITORING_TIMEOUT_MS,
  ) {}

  /** Alerts that are firing now and neither silenced nor inhibited. */
  async activeAlerts(): Promise<ActiveAlert[]> {
    const body = await getJson('AlertManager', this.url, 'api/v2/alerts?active=true&silenced=false&inhibited=false', this.timeoutMs);
    if (!Array.isArray(body)) throw new MonitoringUnavailableError(`AlertManager at ${this.url} answered /api/v2/alerts with no list`);
    return body.map((raw) => {
      const a = (raw ?? {}) as Record<string, unknown>;
      return {
        labels: stringRecord(a.labels),
        annotations: stringRecord(a.annotations),
        startsAt: typeof a.startsAt === 'string' ? a.startsAt : '',
        state: String((a.status as { state?: unknown } | undefined)?.state ?? 'active'),
      };
    });
  }

  ready() {
    return readiness('AlertManager', this.url, this.timeoutMs);
  }
}

/** The `data` of a Prometheus API answer whose status is success. */
function successData(body: unknown): unknown {
  const answer = (body ?? {}) as { status?: unknown; error?: unknown; data?: unknown };
  if (answer.status !== 'success') throw new MonitoringUnavailableError(`Prometheus refused the query: ${summary(String(answer.error ?? 'no status'))}`);
  return answer.data;
}

function parseSeries(raw: unknown): RangeSeries {
  const series = (raw ?? {}) as { metric?: unknown; values?: unknown };
  const values: Array<[number, number]> = [];
  for (const pair of Array.isArray(series.values) ? series.values : []) {
    if (!Array.isArray(pair)) continue;
    const t = Number(pair[0]);
    const v = Number(pair[1]);
    if (Number.isFinite(t) && Number.isFinite(v)) values.push([t, v]);
  }
  return { metric: stringRecord(series.metric), values };
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** Prometheus answers errors as JSON {error}; other services as text. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return text || '(empty answer)';
}

function summary(text: string): string {
  const line = text.trim().replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause;
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return `its name does not resolve (${cause.code}; is the service running?)`;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return e?.message ?? String(error);
}
