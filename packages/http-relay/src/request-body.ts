/**
 * A request body on its way to an HTTP upstream. Whatever arrived with the
 * request (the first chunk) is taken at once; when that is the whole body
 * (the common small request) it goes out as one Buffer, in one write with the
 * headers, and can be sent again on a retry. Otherwise the rest streams, read
 * only when the upstream connection asks for it, so a failed connection
 * leaves it untouched for a retry. Bytes are counted against an optional limit.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export class RequestBody {
  /** True once the streamed part has been asked for: from then on, no retry. */
  started = false;
  /** True once more than `limit` bytes came: the stream was failed. */
  tooLarge = false;

  private constructor(
    private readonly req: IncomingMessage,
    private readonly limit: number,
    private readonly first: Buffer | undefined,
    private readonly complete: boolean,
  ) {}

  /** Whether the request declares a body at all. */
  static expected(headers: IncomingHttpHeaders): boolean {
    const declared = headers['content-length'];
    return (declared !== undefined && declared !== '0') || headers['transfer-encoding'] !== undefined;
  }

  /** Waits for the first chunk (usually there already). `limit`: most bytes streamed, 0 for no limit. */
  static async start(req: IncomingMessage, limit = 0): Promise<RequestBody> {
    const first = await firstChunk(req);
    const declared = req.headers['content-length'];
    const complete = first === undefined || (declared !== undefined && Number(declared) === first.length);
    return new RequestBody(req, limit, first, complete);
  }

  forUndici(): Buffer | AsyncIterable<Buffer> {
    if (this.complete) return this.first ?? Buffer.alloc(0);
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<Buffer> {
    this.started = true;
    let size = 0;
    const count = (chunk: Buffer) => {
      size += chunk.length;
      if (this.limit > 0 && size > this.limit) {
        this.tooLarge = true;
        throw new Error(`request body larger than ${this.limit} bytes`);
      }
      return chunk;
    };
    if (this.first) yield count(this.first);
    for await (const chunk of this.req as AsyncIterable<Buffer>) yield count(chunk);
  }
}

/** The first chunk of the body, as soon as one is there; undefined at the end. */
function firstChunk(req: IncomingMessage): Promise<Buffer | undefined> {
  const ready = req.read() as Buffer | null;
  if (ready !== null) return Promise.resolve(ready);
  if (req.readableEnded) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const done = () => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onReadable = () => {
      const chunk = req.read() as Buffer | null;
      if (chunk === null) return;
      done();
      resolve(chunk);
    };
    const onEnd = () => {
      done();
      resolve(undefined);
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
