// The body's text as a QR code: a PNG (?size=<pixels> from 64 to 1024,
// default 256). qrcode (soldair/node-qrcode) makes it.
import QRCode from 'qrcode';

/** The text a QR code can hold at the default error correction (M): bytes, about 2,300. */
const MAX_TEXT = 2_000;

export default async function handle(req) {
  const text = (typeof req.body === 'string' ? req.body : (req.rawBody ?? Buffer.alloc(0)).toString('utf8')).trim();
  if (!text) return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'send the text to encode as the body\n' };
  if (Buffer.byteLength(text) > MAX_TEXT) return { status: 413, headers: { 'content-type': 'text/plain' }, body: `at most ${MAX_TEXT} bytes of text\n` };
  const size = Math.min(1024, Math.max(64, Number(req.query?.size) || 256));
  const png = await QRCode.toBuffer(text, { type: 'png', width: size, margin: 2 });
  return { status: 200, headers: { 'content-type': 'image/png' }, body: png };
}
