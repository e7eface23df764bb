/** Errors that mean "the input was wrong" (exit 2, nothing written), as opposed to a failed run. */
import { BackendUnavailableError } from '../backend/selectBackend.js';
import { UnknownNameError } from '../config/resolveConfig.js';
import { ValidationError } from '../config/validate.js';
import { DatasetError } from '../data/index.js';
import { ImpossibleConfigError } from '../train/runTraining.js';
import { WorldConfigError } from '../collective/errors.js';
import { ResultsDirInUseError } from '../harness/dirLock.js';
import { InputFileError } from './readJsonFile.js';

export function isBadInputError(error: unknown): boolean {
  return [ValidationError, UnknownNameError, DatasetError, ImpossibleConfigError, InputFileError, BackendUnavailableError, ResultsDirInUseError, WorldConfigError].some(
    (kind) => error instanceof kind,
  );
}
