/** What a child printed on stderr, bounded: the last lines, for failure reports. */
import { lastMeaningfulLine } from '../util/lastMeaningfulLine.js';

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

  /** The line most likely to say what went wrong (see src/util/lastMeaningfulLine.ts). */
  lastMeaningfulLine(): string | null {
    return lastMeaningfulLine(this.lines);
  }
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
