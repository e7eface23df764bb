/** The check's input was wrong (unreadable directory, invalid result or baseline file): exit 2, one line naming the file. */
export class CheckInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckInputError';
  }
}

/** The first line of an error's message (ajv and parsers can produce several). */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
