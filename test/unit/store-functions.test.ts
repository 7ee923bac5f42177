// The store functions built from the templates' module mode (functions/qrcode,
// asciiart, sentiment, thumbnail): their handlers called as the watchdog calls
// them, with the real libraries. The e2e store test deploys qrcode and reads its PNG.
import { describe, expect, it } from 'vitest';

type Handle = (req: { body?: unknown; rawBody?: Buffer; query?: Record<string, string> }) => Promise<{ status: number; headers?: Record<string, string>; body: unknown }>;
const load = async (name: string): Promise<Handle> => {
  const path: string = new URL(`../../functions/${name}/src/handler.js`, import.meta.url).href;
  return ((await import(path)) as { default: Handle }).default;
};
const PNG_MAGIC = '89504e470d0a1a0a';

describe('qrcode', () => {
  it('answers a PNG of the size asked for, and 400 for no text', async () => {
    const handle = await load('qrcode');
    const answer = await handle({ body: 'https://example.com/', rawBody: Buffer.from('https://example.com/'), query: { size: '300' } });
    expect(answer.status).toBe(200);
    expect(answer.headers!['content-type']).toBe('image/png');
    const png = answer.body as Buffer;
    expect(png.subarray(0, 8).toString('hex')).toBe(PNG_MAGIC);
    expect(png.readUInt32BE(16)).toBe(300); // IHDR width
    expect((await handle({ body: '  ', query: {} })).status).toBe(400);
    expect((await handle({ body: 'x'.repeat(3_000), query: {} })).status).toBe(413);
  });
});

describe('asciiart', () => {
  it("draws the text in FIGlet's Standard font", async () => {
    const answer = await (await load('asciiart'))({ body: 'Hi', query: {} });
    expect(answer.status).toBe(200);
    const lines = (answer.body as string).split('\n');
    expect(lines[1]).toBe(' | | | (_)');
    expect(lines[2]).toBe(' | |_| | |');
    expect(lines[4]).toBe(' |_| |_|_|');
  });
});

describe('sentiment', () => {
  it('scores positive and negative text', async () => {
    const handle = await load('sentiment');
    expect((await handle({ body: 'I love this, it is great', query: {} })).body).toMatchObject({ score: 6, positive: ['great', 'love'] });
    expect(((await handle({ body: 'this is terrible and sad', query: {} })).body as { score: number }).score).toBeLessThan(0);
  });
});

describe('thumbnail', () => {
  it('shrinks a PNG keeping its aspect, and refuses what is no image', async () => {
    const qr = (await (await load('qrcode'))({ body: 'thumb', query: { size: '400' } })).body as Buffer;
    const handle = await load('thumbnail');
    const answer = await handle({ rawBody: qr, query: { size: '50' } });
    expect(answer.status).toBe(200);
    const png = answer.body as Buffer;
    expect(png.subarray(0, 8).toString('hex')).toBe(PNG_MAGIC);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([50, 50]);
    expect((await handle({ rawBody: Buffer.from('not an image'), query: {} })).status).toBe(415);
  });

  it('averages boxes of pixels', async () => {
    const path: string = new URL('../../functions/thumbnail/src/resize.js', import.meta.url).href;
    const { boxResize, fitWithin } = (await import(path)) as { boxResize: (s: { width: number; height: number; data: Uint8Array }, w: number, h: number) => Buffer; fitWithin: (w: number, h: number, s: number) => { width: number; height: number } };
    expect(fitWithin(400, 200, 100)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(10, 20, 100)).toEqual({ width: 10, height: 20 });
    // 2x1 pixels, black and white, to one grey pixel
    expect([...boxResize({ width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255, 255, 255]) }, 1, 1)]).toEqual([128, 128, 128, 255]);
  });
});
