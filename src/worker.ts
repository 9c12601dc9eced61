// Piscina worker: normalizes one file per task with the full handler registry.
import { HANDLERS } from '../formats/index.js';
import { normalizeFileJob, type FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';

export default function run(job: FileJob): Promise<FileReport> {
  return normalizeFileJob(job, HANDLERS);
}
