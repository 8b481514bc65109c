/**
 * Splitting a conversion across the tasks of a cluster array job: which rows each part owns, and which part
 * this process is (from `--part I/N` or the scheduler's environment). Pure; no I/O.
 */
import { invalid } from '../core/errors.ts';

/** Part `index` (0-based) of `count`. */
export interface Part {
  readonly index: number;
  readonly count: number;
  /** Where the numbers came from, for the log line. */
  readonly source: string;
}

/**
 * Rows `[first, end)` of `rows` that part `index` of `count` owns: contiguous ranges of nearly equal size
 * (they differ by at most one row) that together cover every row exactly once. Parts beyond the rows get none.
 */
export function partRows(rows: number, index: number, count: number): readonly [number, number] {
  return [Math.floor((index * rows) / count), Math.floor(((index + 1) * rows) / count)];
}

/** Parses `I/N` (0-based I). */
export function parsePart(text: string): Part {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw invalid(`--part must be I/N with 0 ≤ I < N (e.g. --part 0/4). Got: ${text}`);
  return checkPart(Number(match[1]), Number(match[2]), '--part');
}

/** Checks a part index and count; `source` says where they came from (for messages and logs). */
export function checkPart(index: number, count: number, source: string): Part {
  if (!Number.isSafeInteger(count) || count < 1) throw invalid(`${source}: the number of parts must be ≥ 1. Got: ${count}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw invalid(`${source}: part index ${index} is outside 0…${count - 1}`);
  }
  return { index, count, source };
}

/**
 * This process's part, from (in order) `--part I/N`; a SLURM job array (`SLURM_ARRAY_TASK_ID` minus
 * `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`); or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`
 * of `--parts N`). Undefined when none applies: the whole volume in one process.
 */
export function detectPart(env: NodeJS.ProcessEnv, part?: string, parts?: number): Part | undefined {
  if (part !== undefined) {
    if (parts !== undefined) throw invalid('give either --part I/N or --parts N, not both');
    return parsePart(part);
  }
  const slurmId = env.SLURM_ARRAY_TASK_ID;
  if (slurmId !== undefined && slurmId !== '') {
    const id = Number(slurmId);
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    const count = parts ?? Number(env.SLURM_ARRAY_TASK_COUNT);
    if (!Number.isSafeInteger(count)) {
      throw invalid('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --parts N (the array size)');
    }
    const step = Number(env.SLURM_ARRAY_TASK_STEP ?? 1) || 1;
    if ((id - min) % step !== 0) throw invalid(`SLURM_ARRAY_TASK_ID ${id} is not on the array's step ${step}; use --part I/N`);
    return checkPart((id - min) / step, count, `SLURM array task ${id} (min ${min}, count ${count})`);
  }
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    if (parts === undefined) throw invalid('JOB_COMPLETION_INDEX is set: pass --parts N (the Job\'s completions) so this pod knows its share');
    return checkPart(Number(k8s), parts, `Kubernetes JOB_COMPLETION_INDEX ${k8s} of --parts ${parts}`);
  }
  if (parts !== undefined) {
    throw invalid('--parts N needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or a SLURM array; elsewhere use --part I/N');
  }
  return undefined;
}
