/** commander argument parsers that reject malformed values with one clear line. */
import { InvalidArgumentError } from 'commander';
import { nearest } from '../util/nearest.js';

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

export function parseInteger(value: string): number {
  const n = parseNumber(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer`);
  return n;
}

export function parsePositiveInteger(value: string): number {
  const n = parseInteger(value);
  if (n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
}

export function parseIntegerList(value: string): number[] {
  return value.split(',').map((v) => parseInteger(v.trim()));
}

export function parseNumberList(value: string): number[] {
  return value.split(',').map((v) => parseNumber(v.trim()));
}

/**
 * A number, or 'none' / 'off' (returned as 'none': commander turns a parser's null into an empty
 * string, so the caller maps 'none' to null).
 */
export function parseNumberOrNone(value: string): number | 'none' {
  return value === 'none' || value === 'off' ? 'none' : parseNumber(value);
}

/** A parser accepting one of `names` (what is a `what`), refusing others with the nearest name and the list. */
export function parseChoice<T extends string>(what: string, names: readonly T[]): (value: string) => T {
  return (value) => {
    if ((names as readonly string[]).includes(value)) return value as T;
    const guess = nearest(value, names);
    throw new InvalidArgumentError(`unknown ${what} '${value}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${names.join(', ')}`);
  };
}
