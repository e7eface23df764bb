/**
 * JSON and YAML documents (suites, configs, results, baselines) as text -> values, with syntax errors located by line and column, and the
 * limits that make a document built to exhaust a parser ordinary bad input: its size, its nesting
 * depth, YAML alias expansion, duplicate keys and numbers that are not finite (JSON's 1e999, YAML's
 * .inf / .nan). V8's JSON.parse messages only sometimes carry a position, and it accepts duplicate keys
 * and any depth, so every JSON document is first scanned by a small strict JSON checker.
 */
import { parseDocument } from 'yaml';
import { firstLine } from './errors.js';

/** What is wrong and where: a JSON pointer ('/optimizers/1/name'; '/' is the root), '' when it has no place. */
export interface DocumentProblem {
  readonly path: string;
  readonly message: string;
}

/** Suites and configs are hand-written: a megabyte is far beyond any real one. */
export const MAX_DOCUMENT_BYTES = 1 << 20;
/** Nesting depth of objects and arrays (a suite needs about 6). */
export const MAX_NESTING = 64;
/** YAML aliases a document may expand (a "billion laughs" document expands exponentially many). */
export const MAX_YAML_ALIASES = 100;

export type ParseResult = { ok: true; value: unknown } | { ok: false; problems: DocumentProblem[] };

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

const at = (text: string, offset: number) => {
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}`;
};

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Finds the first JSON syntax error of `text`: its offset and what was expected. Undefined if it is valid JSON. */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  let depth = 0;
  const deeper = () => {
    if (++depth > MAX_NESTING)
      throw new JsonSyntaxError(i, `nesting deeper than ${MAX_NESTING} levels (the limit for suite and config files)`);
  };
  const describeHere = () => (i >= text.length ? 'end of input' : `'${text[i]}'`);
  const fail = (expected: string): never => {
    throw new JsonSyntaxError(i, `unexpected ${describeHere()}${expected ? `, expected ${expected}` : ''}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`'${word}'`);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const ch = text[i];
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < ' ') fail('an escaped control character (\\n, \\t, ...) inside the string');
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 5;
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i])) i++;
        else fail('an escape (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t, \\uXXXX)');
        continue;
      }
      i++;
    }
  };
  const number = () => {
    const match = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    match.lastIndex = i;
    const m = match.exec(text);
    if (!m || m[0] === '-') fail('a number');
    i += m![0].length;
    if (i < text.length && /[0-9.eE+-]/.test(text[i])) fail("',' or a closing bracket after the number");
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{') object();
    else if (ch === '[') array();
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch >= '0' && ch <= '9')) number();
    else fail('a value');
  };
  const object = () => {
    deeper();
    i++;
    space();
    if (text[i] === '}') {
      i++;
      depth--;
      return;
    }
    const keys = new Set<string>();
    for (;;) {
      space();
      if (text[i] !== '"') fail(text[i] === '}' ? "a property after ',' (trailing comma)" : 'a double-quoted property name');
      const keyStart = i;
      string();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      if (keys.has(key))
        throw new JsonSyntaxError(keyStart, `duplicate key ${JSON.stringify(key)} (JSON parsers keep the last silently; write it once)`);
      keys.add(key);
      space();
      if (text[i] !== ':') fail("':' after the property name");
      i++;
      value();
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        depth--;
        return;
      }
      fail("',' or '}' after the property value");
    }
  };
  const array = () => {
    deeper();
    i++;
    space();
    if (text[i] === ']') {
      i++;
      depth--;
      return;
    }
    for (;;) {
      space();
      if (text[i] === ']') fail("a value after ',' (trailing comma)");
      value();
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        depth--;
        return;
      }
      fail("',' or ']' after the array element");
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail('the end of the document');
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, message: error.message };
    throw error;
  }
}

/** The one wording of a size limit: "the file is 2097167 bytes; the limit is 1048576 bytes (1 MiB)". */
export function sizeLimitMessage(what: 'file' | 'document', bytes: number, maxBytes: number): string {
  return `the ${what} is ${bytes} bytes; the limit is ${maxBytes} bytes (${+(maxBytes / (1 << 20)).toFixed(2)} MiB)`;
}

const tooLarge = (text: string, maxBytes: number): DocumentProblem[] =>
  Buffer.byteLength(text) > maxBytes ? [{ path: '', message: sizeLimitMessage('document', Buffer.byteLength(text), maxBytes) }] : [];

/** Numbers JSON cannot hold (Infinity, NaN) and nesting beyond the limit, each at its JSON path. */
export function valueProblems(value: unknown): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (problems.length >= 10) return;
    if (typeof v === 'number' && !Number.isFinite(v)) problems.push({ path: path || '/', message: `${v} is not a finite number` });
    if (typeof v !== 'object' || v === null) return;
    if (depth > MAX_NESTING) {
      problems.push({ path: path || '/', message: `nesting deeper than ${MAX_NESTING} levels (the limit for suite and config files)` });
      return;
    }
    if (Array.isArray(v)) {
      for (const [k, x] of v.entries()) walk(x, `${path}/${k}`, depth + 1);
    } else for (const [k, x] of Object.entries(v)) walk(x, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
  };
  walk(value, '', 1);
  return problems;
}

export function parseJsonText(text: string, maxBytes = MAX_DOCUMENT_BYTES): ParseResult {
  const body = text.replace(/^\uFEFF/, '');
  const size = tooLarge(body, maxBytes);
  if (size.length > 0) return { ok: false, problems: size };
  // The strict scan runs first: it also finds what JSON.parse accepts silently (duplicate keys, any depth).
  const located = locateJsonError(body);
  if (located) return { ok: false, problems: [{ path: '', message: `malformed JSON at ${at(body, located.offset)}: ${located.message}` }] };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `malformed JSON: ${firstLine(error)}` }] };
  }
  const problems = valueProblems(value);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

/** A parser that recursed past the stack on a deeply nested document says so in one line. */
function limitMessage(error: unknown): string {
  if (error instanceof RangeError) return `nesting too deep to read (the limit for suite and config files is ${MAX_NESTING} levels)`;
  const message = firstLine(error);
  return /alias/i.test(message) ? `YAML aliases expand beyond the limit of ${MAX_YAML_ALIASES} (${message})` : message;
}

export function parseYamlText(text: string): ParseResult {
  const size = tooLarge(text, MAX_DOCUMENT_BYTES);
  if (size.length > 0) return { ok: false, problems: size };
  let value: unknown;
  try {
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        problems: doc.errors.map((e) => ({
          path: '',
          message: /call stack/i.test(e.message)
            ? limitMessage(new RangeError(e.message))
            : `malformed YAML at ${at(text, e.pos[0])}: ${firstLine(e)}`,
        })),
      };
    }
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: limitMessage(error) }] };
  }
  const problems = valueProblems(value);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}
