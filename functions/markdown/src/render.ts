/** Markdown to HTML with marked (GitHub-flavoured Markdown). */
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, async: false });

export function renderMarkdown(text: string): string {
  return marked.parse(text) as string;
}
