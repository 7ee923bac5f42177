/**
 * marshal_request: the process gets JSON of the request instead of the bare
 * body, in the 2017 watchdog's shape (Go's json of MarshalReq):
 *   {"header":{"Content-Type":["text/plain"]},"body":{"raw":"<base64>"}}
 * The body is base64-encoded as it streams, so a large body is never held whole.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class MarshalRequestStream extends Transform {
  private carry: Buffer = Buffer.alloc(0);

  constructor(header: Record<string, string[]>) {
    super();
    this.push(`{"header":${JSON.stringify(header)},"body":{"raw":"`);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    // base64 works on 3-byte groups: encode whole groups, keep the rest for later.
    const whole = data.length - (data.length % 3);
    this.carry = data.subarray(whole);
    if (whole > 0) this.push(data.subarray(0, whole).toString('base64'));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(`${this.carry.toString('base64')}"}}`);
    done();
  }
}
