/**
 * Suite files as text -> values, with syntax errors located by line and column. V8's JSON.parse
 * messages only sometimes carry a position, so a malformed JSON document is re-scanned by a small
 * strict JSON checker that finds where it goes wrong.
 */
import { parseDocument } from 'yaml';
import type { SuiteProblem } from './suiteError.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; problems: SuiteProblem[] };

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
      if (i >= text.length) fail('a closing \'"\'');
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
    i++;
    space();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (text[i] !== '"') fail(text[i] === '}' ? 'a property after \',\' (trailing comma)' : 'a double-quoted property name');
      string();
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
        return;
      }
      fail("',' or '}' after the property value");
    }
  };
  const array = () => {
    i++;
    space();
    if (text[i] === ']') {
      i++;
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

export function parseJsonText(text: string): ParseResult {
  const body = text.replace(/^\uFEFF/, '');
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const located = locateJsonError(body);
    const message = located
      ? `malformed JSON at ${at(body, located.offset)}: ${located.message}`
      : `malformed JSON: ${(error as Error).message.split('\n')[0]}`;
    return { ok: false, problems: [{ path: '', message }] };
  }
}

export function parseYamlText(text: string): ParseResult {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: '', message: `malformed YAML at ${at(text, e.pos[0])}: ${e.message.split('\n')[0]}` })),
    };
  }
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
}
