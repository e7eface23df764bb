/** Reading a published-reference file (`ngd-bench report --reference FILE`), validated against its schema. */
import { assertValid } from '../config/validate.js';
import { firstLine, InputFileError } from '../util/errors.js';
import { readJsonFile } from '../util/inputFile.js';
import { PublishedReferenceSchema, type PublishedReference } from './referenceSchema.js';

/** Per-seed curves of a few optimizers: well under the result-file limit. */
const MAX_REFERENCE_BYTES = 8 << 20;

export function parsePublishedReference(value: unknown, file: string): PublishedReference {
  try {
    assertValid(PublishedReferenceSchema, value, `${file}: invalid reference file`);
  } catch (error) {
    throw new InputFileError(firstLine(error));
  }
  const seen = new Set<string>();
  for (const [i, curve] of value.curves.entries()) {
    const key = `${curve.label}@${curve.batchSize}`;
    if (seen.has(key))
      throw new InputFileError(
        `${file}: invalid reference file: /curves/${i}: a second curve for ${curve.label} at batch ${curve.batchSize}`,
      );
    seen.add(key);
  }
  return value;
}

export function readPublishedReference(file: string): PublishedReference {
  return parsePublishedReference(readJsonFile(file, 'reference file', { maxBytes: MAX_REFERENCE_BYTES }), file);
}
