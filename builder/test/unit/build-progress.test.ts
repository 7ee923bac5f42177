// The engine's build output as log lines: real BuildKit and classic-builder
// streams (captured from Docker 20.10 into test/fixtures) read back.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildProgress, JsonLines } from '../../src/build-progress.js';

function replay(fixture: string, chunkSize = 97) {
  const raw = readFileSync(new URL(`../fixtures/${fixture}`, import.meta.url));
  const progress = new BuildProgress();
  const json = new JsonLines();
  const lines: string[] = [];
  let error: string | undefined;
  let imageId: string | undefined;
  const take = (messages: Record<string, unknown>[]) => {
    for (const m of messages) {
      const event = progress.read(m);
      lines.push(...event.lines);
      error ??= event.error;
      imageId ??= event.imageId;
    }
  };
  // Split anywhere: the engine's chunks do not follow its lines.
  for (let i = 0; i < raw.length; i += chunkSize) take(json.push(raw.subarray(i, i + chunkSize)));
  take(json.end());
  return { lines, error, imageId };
}

describe('build progress', () => {
  it('writes BuildKit steps, their output and the failing step like --progress=plain', () => {
    const { lines, error } = replay('buildkit-failed-run.jsonl');
    const text = lines.join('\n');
    expect(text).toMatch(/^#\d+ \[2\/3\] RUN echo first line && echo second line$/m);
    expect(text).toMatch(/^#\d+ [\d.]+ first line$/m);
    expect(text).toMatch(/^#\d+ [\d.]+ second line$/m);
    expect(text).toMatch(/^#\d+ DONE [\d.]+s$/m);
    expect(text).toMatch(/^#\d+ [\d.]+ about to fail$/m);
    expect(text).toMatch(/^#\d+ ERROR: .*exit code: 3/m);
    expect(error).toMatch(/exit code: 3/);
  });

  it('reads the classic builder\'s steps and the image it made', () => {
    const { lines, error, imageId } = replay('classic-success.jsonl', 13);
    expect(lines).toContain('Step 2/2 : RUN echo hi');
    expect(lines).toContain('hi');
    expect(error).toBeUndefined();
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('keeps a line that is not JSON as it is', () => {
    const json = new JsonLines();
    expect(json.push('{"stream":"a"}\nnot json\n{"str')).toEqual([{ stream: 'a' }, { stream: 'not json' }]);
    expect(json.push('eam":"b"}')).toEqual([]);
    expect(json.end()).toEqual([{ stream: 'b' }]);
  });
});
