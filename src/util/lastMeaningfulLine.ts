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
