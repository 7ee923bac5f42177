// How full NATS's JetStream store is, from its monitoring endpoint (/jsz),
// read at most once a second (behind the accepts, which take the last figure): accepts stop with 503 once it passes
// QUEUE_STORE_FULL_AT percent of its budget (QUEUE_STORE_SIZE, or NATS's own
// max_storage when smaller), so what was accepted can still be worked and
// kept as dead letters. The streams' own limits keep each part bounded; this
// keeps their sum inside the budget however many functions there are.

/** The figures of /jsz the gauge reads. */
interface Jsz {
  config?: { max_storage?: number };
  storage?: number;
}

const READ_EVERY_MS = 1_000;
const READ_TIMEOUT_MS = 500;

export class StoreGauge {
  private last: { at: number; problem: string | undefined } | undefined;
  private reading: Promise<string | undefined> | undefined;

  constructor(
    private readonly monitoringUrl: string,
    private readonly budgetBytes: number,
    private readonly fullAtPercent: number,
    private readonly read: (url: string) => Promise<Jsz> = readJsz,
  ) {}

  /**
   * Why nothing more may be stored now (the store is full), or undefined. An
   * unreadable gauge stops nothing. Only the first read is waited for: then
   * the last figure answers while a new one is read (an accept never waits
   * for the monitoring port, which a NATS gone away leaves unanswered).
   */
  async fullness(): Promise<string | undefined> {
    const now = Date.now();
    if (this.last && now - this.last.at < READ_EVERY_MS) return this.last.problem;
    this.reading ??= this.read(`${this.monitoringUrl}/jsz`)
      .then((jsz) => problemOf(jsz, this.budgetBytes, this.fullAtPercent))
      .catch(() => undefined)
      .then((problem) => {
        this.last = { at: Date.now(), problem };
        return problem;
      })
      .finally(() => (this.reading = undefined));
    return this.last ? this.last.problem : this.reading;
  }
}

function problemOf(jsz: Jsz, budget: number, fullAtPercent: number): string | undefined {
  const natsMax = jsz.config?.max_storage;
  const max = natsMax && natsMax > 0 ? Math.min(natsMax, budget) : budget;
  const used = jsz.storage;
  if (used === undefined) return undefined;
  const percent = (used / max) * 100;
  if (percent < fullAtPercent) return undefined;
  return `the queue's store is ${percent.toFixed(0)}% full (${used} of ${max} bytes, QUEUE_STORE_SIZE; accepts stop at QUEUE_STORE_FULL_AT=${fullAtPercent}%): try again once the queue has been worked off`;
}

async function readJsz(url: string): Promise<Jsz> {
  const res = await fetch(url, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Jsz;
}
