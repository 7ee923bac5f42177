// The engine's build output as plain log lines.
//  - The classic builder sends JSON objects: {stream: "Step 1/5 : ..."},
//    {error: "..."}, {aux: {ID}} and pull progress.
//  - BuildKit (version=2) sends {id: "moby.buildkit.trace", aux: <base64>},
//    each a protobuf StatusResponse of vertexes (steps), their logs and
//    statuses. They are written out like `docker build --progress=plain`:
//      #5 [2/4] RUN npm ci
//      #5 1.203 added 1 package in 1s
//      #5 DONE 2.4s
//    (decoded with protobufjs from the message layout declared below).
import protobuf from 'protobufjs';

// The fields of BuildKit's StatusResponse (moby/buildkit api/services/control)
// this builder reads; protobuf skips the others.
const SCHEMA = `
syntax = "proto3";
package buildkit;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message Vertex { string digest = 1; string name = 3; bool cached = 4; Timestamp started = 5; Timestamp completed = 6; string error = 7; }
message VertexStatus { string ID = 1; string vertex = 2; string name = 3; int64 current = 4; int64 total = 5; }
message VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
message VertexWarning { string vertex = 1; int64 level = 2; bytes short = 3; }
message StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3; repeated VertexWarning warnings = 4; }
`;

interface Timestamp {
  seconds: number;
  nanos: number;
}
interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started?: Timestamp;
  completed?: Timestamp;
  error: string;
}
interface VertexLog {
  vertex: string;
  timestamp?: Timestamp;
  msg: Uint8Array;
}
interface StatusResponse {
  vertexes: Vertex[];
  logs: VertexLog[];
  warnings: { vertex: string; short: Uint8Array }[];
}

interface Step {
  n: number;
  name: string;
  started?: number;
  announced: boolean;
  done: boolean;
}

let statusType: protobuf.Type | undefined;
function decodeStatus(base64: string): StatusResponse {
  statusType ??= protobuf.parse(SCHEMA).root.lookupType('buildkit.StatusResponse');
  const message = statusType.decode(Buffer.from(base64, 'base64'));
  return statusType.toObject(message, { longs: Number, defaults: true, arrays: true }) as StatusResponse;
}

const time = (t: Timestamp | undefined): number | undefined => (t && (t.seconds || t.nanos) ? t.seconds + t.nanos / 1e9 : undefined);

export interface ProgressEvent {
  /** Log lines to show. */
  lines: string[];
  /** Set by the engine's error message: the build failed. */
  error?: string;
  /** Set once the image exists: its ID. */
  imageId?: string;
}

/** Turns the engine's JSON build messages, one at a time, into log lines. */
export class BuildProgress {
  private readonly steps = new Map<string, Step>();
  private readonly partial = new Map<string, string>();
  private next = 1;

  /** One JSON object of the engine's stream. */
  read(message: Record<string, unknown>): ProgressEvent {
    if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string') return { lines: this.buildkit(decodeStatus(message.aux)) };
    if (message.id === 'moby.image.id' || (message.aux && typeof (message.aux as { ID?: unknown }).ID === 'string')) {
      return { lines: [], imageId: (message.aux as { ID: string }).ID };
    }
    if (typeof message.error === 'string' || message.errorDetail) {
      const error = (typeof message.error === 'string' ? message.error : (message.errorDetail as { message?: string }).message) ?? 'the build failed';
      return { lines: error.split('\n').filter(Boolean).map((l) => `ERROR: ${l}`), error: error.trim() };
    }
    if (typeof message.stream === 'string') return { lines: message.stream.split('\n').filter((l) => l.trim() !== '') };
    // Pull progress of a base image: only its outcome is worth a line.
    if (typeof message.status === 'string' && !message.progressDetail && !/^(Downloading|Extracting|Waiting|Verifying|Pulling fs layer)/.test(message.status)) {
      return { lines: [`${message.id ? `${String(message.id)}: ` : ''}${message.status}`] };
    }
    return { lines: [] };
  }

  private step(digest: string, name = ''): Step {
    let step = this.steps.get(digest);
    if (!step) {
      step = { n: this.next++, name, announced: false, done: false };
      this.steps.set(digest, step);
    }
    if (name) step.name = name;
    return step;
  }

  private buildkit(status: StatusResponse): string[] {
    const lines: string[] = [];
    for (const vertex of status.vertexes) {
      const step = this.step(vertex.digest, vertex.name);
      const started = time(vertex.started);
      const completed = time(vertex.completed);
      // A step is named once it starts (or turns out cached, or fails): BuildKit lists steps before they run.
      if (!step.announced && (started || vertex.cached || completed || vertex.error)) {
        step.announced = true;
        lines.push(`#${step.n} ${step.name}`);
      }
      if (started && step.started === undefined) step.started = started;
      if (step.done) continue;
      if (vertex.error) {
        lines.push(...this.drain(vertex.digest, step.n), `#${step.n} ERROR: ${vertex.error}`);
        step.done = true;
      } else if (vertex.cached && completed) {
        lines.push(`#${step.n} CACHED`);
        step.done = true;
      } else if (completed) {
        lines.push(...this.drain(vertex.digest, step.n), `#${step.n} DONE ${(completed - (step.started ?? completed)).toFixed(1)}s`);
        step.done = true;
      }
    }
    for (const log of status.logs) {
      const step = this.step(log.vertex);
      const at = time(log.timestamp);
      const prefix = `#${step.n} ${at !== undefined && step.started !== undefined ? `${(at - step.started).toFixed(3)} ` : ''}`;
      const text = (this.partial.get(log.vertex) ?? '') + Buffer.from(log.msg).toString('utf8');
      const parts = text.split('\n');
      this.partial.set(log.vertex, parts.pop() ?? '');
      for (const part of parts) if (part.trim()) lines.push(prefix + part.replace(/\r/g, ''));
    }
    for (const warning of status.warnings) lines.push(`WARNING: ${Buffer.from(warning.short).toString('utf8')}`);
    return lines;
  }

  /** A step's last, unfinished line. */
  private drain(digest: string, n: number): string[] {
    const rest = this.partial.get(digest);
    this.partial.delete(digest);
    return rest?.trim() ? [`#${n} ${rest}`] : [];
  }
}

/** Splits a stream of newline-separated JSON objects (the engine's build and push output) into objects. */
export class JsonLines {
  private buffer = '';

  push(chunk: Buffer | string): Record<string, unknown>[] {
    this.buffer += chunk.toString();
    const out: Record<string, unknown>[] = [];
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        out.push({ stream: line });
      }
    }
    return out;
  }

  end(): Record<string, unknown>[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest ? this.push(`${rest}\n`) : [];
  }
}
