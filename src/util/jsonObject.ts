/** A parsed JSON object (neither an array nor null): what config, suite and schema code walk. */
export type JsonObject = Record<string, unknown>;

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
