/** What a child printed on stderr, bounded: the last lines, for failure reports. */

export const TAIL_MAX_LINES = 40;
export const TAIL_MAX_BYTES = 8 * 1024;

export class StderrTail {
  private readonly lines: string[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines = TAIL_MAX_LINES,
    private readonly maxBytes = TAIL_MAX_BYTES,
  ) {}

  push(line: string): void {
    const kept = line.length > this.maxBytes ? `${line.slice(0, this.maxBytes - 3)}...` : line;
    this.lines.push(kept);
    this.bytes += Buffer.byteLength(kept) + 1;
    while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) {
      this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
    }
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** The line most likely to say what went wrong (see lastMeaningfulLine). */
  lastMeaningfulLine(): string | null {
    return lastMeaningfulLine(this.lines);
  }
}

/**
 * The line most worth quoting in a one-line reason: the last line that names an error ("Error: boom",
 * "TypeError [ERR_X]: ...", "ngd-bench: error: ..."), else the last line that is not noise (blank,
 * a stack frame, a lone brace of an error's property dump, or Node's closing "Node.js v20..." banner).
 */
export function lastMeaningfulLine(lines: readonly string[]): string | null {
  const clip = (line: string) => (line.length > 300 ? `${line.slice(0, 297)}...` : line);
  const trimmed = lines.map((l) => l.trim());
  const errorLine = /(^|\s|:)(\w*Error|error)( \[[A-Z0-9_]+\])?:\s/;
  for (let i = trimmed.length - 1; i >= 0; i--) if (errorLine.test(trimmed[i]) && !/^at\s/.test(trimmed[i])) return clip(trimmed[i]);
  for (let i = trimmed.length - 1; i >= 0; i--) {
    const line = trimmed[i];
    if (line === '' || /^at\s/.test(line) || /^Node\.js v\d/.test(line) || /^[\^{}[\](),]+$/.test(line)) continue;
    return clip(line);
  }
  return null;
}

/**
 * Splits a byte stream into lines (\n or \r\n). A line longer than `maxLine` characters is cut and
 * delivered in pieces, so a child that never prints a newline cannot grow memory without bound.
 */
export class LineSplitter {
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = TAIL_MAX_BYTES,
  ) {}

  write(chunk: string): void {
    let text = this.partial + chunk;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n')) {
      this.onLine(text.slice(0, nl).replace(/\r$/, ''));
      text = text.slice(nl + 1);
    }
    while (text.length > this.maxLine) {
      this.onLine(text.slice(0, this.maxLine));
      text = text.slice(this.maxLine);
    }
    this.partial = text;
  }

  end(): void {
    if (this.partial !== '') this.onLine(this.partial.replace(/\r$/, ''));
    this.partial = '';
  }
}
