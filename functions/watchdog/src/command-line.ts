/**
 * Splits `fprocess` into argv the way a POSIX shell splits words, but without
 * a shell: quotes and backslashes group words, and nothing else ($, ;, |, `
 * and globs) has any meaning. Nothing from a request ever reaches this text,
 * and the result goes straight to spawn(), so no command can be injected.
 */
export class CommandLineError extends Error {}

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError('ends with a lone backslash');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`has an unterminated ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new CommandLineError('is empty');
  return words;
}
