// The New function page's routes and how it finds the failing lines of a build's log.
import { describe, expect, it } from 'vitest';
import { editHref, parseRoute } from '../../../ui/js/routes.js';
import { failingLines } from '../../../ui/js/source-api.js';

describe('the New function routes', () => {
  it('parses #/new and #/edit/<name>', () => {
    expect(parseRoute('#/new')).toEqual({ view: 'new' });
    expect(parseRoute(editHref('hello-1'))).toEqual({ view: 'edit', name: 'hello-1' });
    expect(parseRoute('#/edit/%E0%A4%A')).toEqual({ view: 'list' });
  });
});

describe('failingLines', () => {
  it("finds Node's and Python's locations in the user's files, with the message below them", () => {
    const log = [
      '#9 [stage-1 4/4] RUN ["node", "/home/app/watchdog.mjs", "--check"]',
      '#9 0.41 watchdog: cannot load /home/app/function/handler.js',
      '#9 0.41 file:///home/app/function/handler.js:2',
      '#9 0.41   return { status: 200 body: 1 };',
      '#9 0.41                        ^^^^',
      '#9 0.41 SyntaxError: Unexpected identifier \'body\'',
      '  File "/home/app/function/handler.py", line 7, in handle',
      'NameError: name \'x\' is not defined',
    ];
    expect(failingLines(log)).toEqual([
      { file: 'handler.js', line: 2, text: "SyntaxError: Unexpected identifier 'body'" },
      { file: 'handler.py', line: 7, text: "NameError: name 'x' is not defined" },
    ]);
  });

  it('finds nothing in a log that names no line', () => {
    expect(failingLines(['npm error 404 Not Found - GET https://registry.npmjs.org/nope'])).toEqual([]);
  });
});
