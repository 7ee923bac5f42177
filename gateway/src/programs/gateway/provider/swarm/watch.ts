// List and watch, Swarm style. The engine's event stream says at once when
// something on this node changed, but it reports only this node's
// containers: a task that starts, stops or fails on another node makes no
// event here. So the whole picture is read again every `pollMs` as well, and
// after each reconnect of the event stream (a change made while it was down
// is never missed). Reads never overlap: one that is asked for while another
// runs follows it.
import type { Logger } from 'pino';
import type { FunctionEntry, SnapshotListener } from '../types.js';

export interface ListAndWatchOptions {
  /** One complete read of every function. */
  read: () => Promise<FunctionEntry[]>;
  /** Opens the engine's event stream (newline-delimited JSON). */
  events: () => Promise<NodeJS.ReadableStream>;
  /** Whether one event line can change a function (cheap: called per event). */
  relevant: (line: string) => boolean;
  listener: SnapshotListener;
  log: Logger;
  /** Milliseconds between reads when nothing happens (remote task changes show within this). */
  pollMs: number;
  /** Milliseconds an event waits for the rest of its burst. */
  debounceMs?: number;
  /** Reconnect delays: from firstMs, doubling, up to maxMs. */
  backoff?: { firstMs: number; maxMs: number };
}

export function listAndWatch(options: ListAndWatchOptions): () => void {
  const { log } = options;
  const backoff = options.backoff ?? { firstMs: 1_000, maxMs: 10_000 };
  let stopped = false;
  let reading = false;
  let again = false;
  let failures = 0;
  let stream: NodeJS.ReadableStream | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectDelay = backoff.firstMs;

  const read = async (): Promise<void> => {
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    clearTimeout(pollTimer);
    try {
      const entries = await options.read();
      if (stopped) return;
      if (failures > 0) log.info({ failures }, 'reading the functions works again');
      failures = 0;
      options.listener(entries);
    } catch (error) {
      // Once per outage, then quietly: the last snapshot stays in use meanwhile.
      if (failures++ === 0) log.warn({ err: error }, 'cannot read the functions; keeping the last view and retrying');
    } finally {
      reading = false;
      if (!stopped) {
        if (again) {
          again = false;
          void read();
        } else {
          pollTimer = setTimeout(() => void read(), options.pollMs);
          pollTimer.unref();
        }
      }
    }
  };

  const soon = () => {
    if (debounceTimer) return;
    debounceTimer = setTimeout(() => {
      debounceTimer = undefined;
      void read();
    }, options.debounceMs ?? 50);
    debounceTimer.unref();
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      const opened = await options.events();
      if (stopped) return destroy(opened);
      stream = opened;
      reconnectDelay = backoff.firstMs;
      let buffered = '';
      opened.on('data', (chunk: Buffer | string) => {
        buffered += chunk.toString();
        let newline: number;
        let changed = false;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          if (options.relevant(buffered.slice(0, newline))) changed = true;
          buffered = buffered.slice(newline + 1);
        }
        if (changed) soon();
      });
      const lost = () => {
        if (stream !== opened || stopped) return;
        stream = undefined;
        log.warn('engine event stream ended; reconnecting');
        retry();
      };
      opened.on('end', lost);
      opened.on('close', lost);
      opened.on('error', lost);
      // Everything again: whatever changed while the stream was down is in this read.
      void read();
    } catch (error) {
      log.warn({ err: error, retryInMs: reconnectDelay }, 'cannot open the engine event stream; retrying');
      retry();
    }
  };

  const retry = () => {
    if (stopped) return;
    reconnectTimer = setTimeout(() => void connect(), reconnectDelay);
    reconnectTimer.unref();
    reconnectDelay = Math.min(reconnectDelay * 2, backoff.maxMs);
  };

  void read();
  void connect();
  return () => {
    stopped = true;
    clearTimeout(pollTimer);
    clearTimeout(debounceTimer);
    clearTimeout(reconnectTimer);
    if (stream) destroy(stream);
    stream = undefined;
  };
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as unknown as { destroy?: () => void }).destroy?.();
}
