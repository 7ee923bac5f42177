// A PNG thumbnail of a PNG or JPEG body, at most ?size=<pixels> (16 to 512,
// default 128) on its longer side, the aspect kept. pngjs and jpeg-js decode
// and encode (pure JavaScript); the scaling averages each output pixel's box
// of source pixels (./resize.js).
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { boxResize, fitWithin } from './resize.js';

/** Decoding a large image holds width × height × 4 bytes: bounded. */
const MAX_PIXELS = 25_000_000;

function decode(bytes) {
  if (bytes.length > 8 && bytes.readUInt32BE(0) === 0x89504e47) {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, data: png.data };
  }
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 256 });
    return { width: image.width, height: image.height, data: image.data };
  }
  return undefined;
}

export default async function handle(req) {
  const bytes = Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody ?? '');
  let image;
  try {
    image = decode(bytes);
  } catch (err) {
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: `the image cannot be read: ${err.message}\n` };
  }
  if (!image) return { status: 415, headers: { 'content-type': 'text/plain' }, body: 'send a PNG or JPEG image as the body\n' };
  if (image.width * image.height > MAX_PIXELS) return { status: 413, headers: { 'content-type': 'text/plain' }, body: 'the image has more than 25 megapixels\n' };
  const size = Math.min(512, Math.max(16, Number(req.query?.size) || 128));
  const { width, height } = fitWithin(image.width, image.height, size);
  const png = new PNG({ width, height });
  png.data = boxResize(image, width, height);
  return { status: 200, headers: { 'content-type': 'image/png' }, body: PNG.sync.write(png) };
}
