import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../../../../test/support/serve.js';
import { renderMarkdown } from '../../src/render.js';
import { createMarkdownServer } from '../../src/server.js';

describe('renderMarkdown', () => {
  it('renders headings, emphasis, lists, code and tables', () => {
    expect(renderMarkdown('# hi')).toBe('<h1>hi</h1>\n');
    expect(renderMarkdown('*a* **b**')).toBe('<p><em>a</em> <strong>b</strong></p>\n');
    expect(renderMarkdown('- one\n- two')).toBe('<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
    expect(renderMarkdown('```\nx < y\n```')).toBe('<pre><code>x &lt; y\n</code></pre>\n');
    expect(renderMarkdown('| a |\n| - |\n| 1 |')).toContain('<td>1</td>');
  });

  it('shows raw HTML as text: no script, handler or frame from the body reaches the page', () => {
    for (const attack of ['<script>fetch("/system/functions")</script>', '<img src=x onerror=alert(1)>', 'hi <iframe src="/system/info"></iframe>', '<div onclick="x()">a</div>']) {
      const html = renderMarkdown(attack);
      expect(html, attack).not.toMatch(/<(script|img|iframe|div)\b/i);
      expect(html).toContain('&lt;');
    }
  });

  it('keeps http(s), mailto and relative links; drops javascript: and data: ones to their text', () => {
    expect(renderMarkdown('[a](https://example.com/x?y=1)')).toBe('<p><a href="https://example.com/x?y=1">a</a></p>\n');
    expect(renderMarkdown('[m](mailto:me@example.com) [r](/docs)')).toContain('<a href="/docs">r</a>');
    expect(renderMarkdown('[click](javascript:alert(1))')).toBe('<p>click</p>\n');
    expect(renderMarkdown('[click](JaVa\tScRiPt:alert(1))')).not.toContain('href');
    expect(renderMarkdown('![pic](data:text/html,<script>x</script>)')).not.toContain('src=');
    expect(renderMarkdown('![pic](/logo.png "Logo")')).toBe('<p><img src="/logo.png" alt="pic" title="Logo"></p>\n');
  });
});

describe('the markdown server', () => {
  const url = serveDuringTests(createMarkdownServer());

  it('answers HTML for the Markdown body', async () => {
    const res = await fetch(url(), { method: 'POST', body: '# Título ✓\n\nsome *text*' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('<h1>Título ✓</h1>\n<p>some <em>text</em></p>\n');
  });

  it('answers an empty page for an empty body', async () => {
    const res = await fetch(url());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});
