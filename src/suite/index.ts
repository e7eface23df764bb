/** Declarative suites: load and validate a suite file, expand it into planned runs, filter and shard them. No tfjs. */
export {
  SuiteSchema,
  labelOf,
  type Suite,
  type OptimizerEntry,
  type OptimizerSettings,
  type Sweep,
  type Tolerances,
  type RunSettings,
  type Probes,
} from './suiteSchema.js';
export { SuiteError, formatProblem, type SuiteProblem } from './suiteError.js';
export { loadSuite, parseSuiteText, suiteFromValue, suiteFormat, type SuiteFormat } from './loadSuite.js';
export { expandSuite, planRuns, runConfig, runConfigInput, type ExpandOptions, type RunCell } from './expandSuite.js';
export { compileFilter } from './filter.js';
export { parseShard, selectShard, estimateRunCost, type Shard } from './shard.js';
export { canonicalJson, configHash, runName, runId, sweepKeys, formatSweepValue, type RunNameParts } from './runId.js';
export { probeSettings, type ProbeSettings } from './probes.js';
export { suiteJsonSchema, suiteJsonSchemaText } from './emitSchema.js';
export { SWEEPABLE_PATHS } from './configPaths.js';
export type { PlannedRun, SweepValue } from './plannedRun.js';
