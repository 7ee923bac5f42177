// Docker's service logs come as a multiplexed byte stream: frames of an
// 8-byte header (stream type, 3 zero bytes, big-endian length) and a payload
// "<timestamp> <details> <text>\n" (with timestamps and details requested).
// This turns them into the OpenFaaS log entries {name, instance, timestamp, text}.
import type { FunctionRef, LogEntry } from '../types.js';

/** Splits a multiplexed stream into payloads; passes a TTY (raw) stream through by line. */
export async function* demuxFrames(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let pending = Buffer.alloc(0);
  let raw: boolean | undefined;
  for await (const chunk of stream) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    if (raw === undefined && pending.length > 0) raw = !(pending[0]! <= 2 && (pending.length < 4 || pending.readUIntBE(1, 3) === 0));
    if (raw) {
      let newline: number;
      while ((newline = pending.indexOf(0x0a)) >= 0) {
        yield pending.subarray(0, newline).toString('utf8');
        pending = pending.subarray(newline + 1);
      }
      continue;
    }
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size).toString('utf8');
      pending = pending.subarray(8 + size);
      // A frame normally holds one line; split defensively.
      for (const line of payload.split('\n')) if (line.length > 0) yield line;
    }
  }
  if (raw && pending.length > 0) yield pending.toString('utf8');
}

/** Parses "<RFC3339 timestamp> <k=v,k=v> <text>" into a log entry. */
export function parseLogLine({ name, namespace }: FunctionRef, line: string): LogEntry {
  const firstSpace = line.indexOf(' ');
  const timestamp = firstSpace > 0 ? line.slice(0, firstSpace) : '';
  if (!/^\d{4}-\d\d-\d\dT/.test(timestamp)) return { name, namespace, instance: '', timestamp: '', text: line };
  let rest = line.slice(firstSpace + 1);
  let instance = '';
  // Details are present when Docker attaches swarm attributes; they contain no spaces.
  const detailsEnd = rest.indexOf(' ');
  const details = detailsEnd >= 0 ? rest.slice(0, detailsEnd) : rest;
  if (details.includes('com.docker.swarm.')) {
    for (const pair of details.split(',')) {
      const [key, value] = pair.split('=');
      if (key === 'com.docker.swarm.task.id' && value) instance = value;
    }
    rest = detailsEnd >= 0 ? rest.slice(detailsEnd + 1) : '';
  }
  return { name, namespace, instance, timestamp, text: rest };
}

/**
 * Entries from several streams in time order (stable: lines of one instant keep
 * their order). Compared as times, not as text: Docker trims the trailing zeros
 * of a timestamp's fraction, so ".5Z" sorts after ".51Z" as text.
 */
export function sortByTime(entries: readonly LogEntry[]): LogEntry[] {
  const at = (entry: LogEntry) => {
    const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(entry.timestamp);
    if (!match) return { seconds: Number.NEGATIVE_INFINITY, fraction: 0 };
    return { seconds: Date.parse(`${match[1]}Z`), fraction: Number(`0.${match[2] ?? '0'}`) };
  };
  return entries
    .map((entry, index) => ({ entry, index, time: at(entry) }))
    .sort((a, b) => a.time.seconds - b.time.seconds || a.time.fraction - b.time.fraction || a.index - b.index)
    .map(({ entry }) => entry);
}
