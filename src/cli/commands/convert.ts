/** `slabchunk convert`: options from the table, the part from the scheduler, progress and the summary line. */
import { SlabchunkError } from '../../core/errors.ts';
import { formatShape } from '../../core/geometry.ts';
import { prepareConvert } from '../../ops/convert.ts';
import type { LevelSpec } from '../../ops/levels.ts';
import { CLI_OPTIONS, type ConvertOptions, type OptionName, type ResolvedConvertOptions } from '../../ops/options.ts';
import { detectPart, type Part } from '../../ops/partition.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, RunFailure, showProgress, toJsonLine, type CliIO } from '../io.ts';
import { progressReporter } from '../progress.ts';
import { interruptSignal } from '../signals.ts';

export async function convertCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { values } = parsed;
  const options: Record<string, unknown> = {};
  // Raw strings: resolveConvertOptions checks each one with its row's parser.
  for (const [name, value] of Object.entries(values)) if (!Object.hasOwn(CLI_OPTIONS, name) && name !== 'part') options[name as OptionName] = value;
  const parts = values.parts === undefined ? undefined : CLI_OPTIONS.parts.parse(values.parts, `--${CLI_OPTIONS.parts.flag}`);
  const part = detectPart(io.env ?? process.env, values.part as string | undefined, parts);
  if (part) options.part = part;
  const [input, store] = parsed.args as [string, string];
  const progress = progressReporter(io.stderr, 'convert', showProgress(parsed, io));
  const signal = interruptSignal();
  try {
    const job = await prepareConvert(input === '-' ? io.stdin : input, store, {
      ...(options as unknown as ConvertOptions),
      onProgress: (p) => progress.update(p.bytesIn, p.bytesTotal),
      signal: signal.signal,
    });
    if (job.part) {
      const [a, b] = job.rows;
      const [z0, z1] = job.slabs;
      io.stderr.write(a === b
        ? `part ${job.part.index} of ${job.part.count} (${job.part.source}): no rows to convert (${job.rowsTotal} rows for ${job.part.count} parts); nothing to do\n`
        : `part ${job.part.index} of ${job.part.count} (${job.part.source}): rows ${a}–${b - 1} of ${job.rowsTotal} (slabs ${job.slabAxis} ${z0}–${z1 - 1})\n`);
    }
    if (job.described) io.stderr.write(`read from ${input}: ${job.described.summary}\n`);
    if (job.options.ome) io.stderr.write(`${pyramidLine(job.levels, job.options)}\n`);
    for (const note of job.notes) io.stderr.write(`note: ${note}\n`);
    const summary = await job.run().catch((error: unknown) => {
      throw new RunFailure(error instanceof SlabchunkError && error.resumable ? withResumeCommand(error, parsed.argv, job.part) : error);
    });
    progress.stop();
    if (values.json) {
      io.stdout.write(toJsonLine({ ...summary, input }));
      return 0;
    }
    const o = summary.options;
    io.stderr.write(
      `converted ${input} -> ${store}: ${formatShape(o.shape)} ${o.dtype}` +
        `${summary.part && summary.rows[1] > summary.rows[0] ? ` (part ${summary.part.index} of ${summary.part.count}: rows ${summary.rows[0]}–${summary.rows[1] - 1} of ${summary.rowsTotal})` : ''}, ` +
        `read ${mb(summary.bytesIn)} in ${summary.seconds.toFixed(2)} s ` +
        `(${summary.mbPerSecond.toFixed(0)} MB/s); ${summary.chunksWritten} chunks written (${mb(summary.bytesWritten)}), ` +
        `${summary.chunksSkipped} all-fill skipped${summary.rowsSkipped > 0 ? `, ${summary.rowsSkipped} rows already done` : ''}; ` +
        `${summary.engine.threads} threads${summary.engine.rowBuffers === 2 ? ', reading overlapped with encoding' : ''}; ` +
        `peak RSS ${mb(summary.peakRssBytes)}\n`,
    );
    // Level 0 is the other parts' to write; the coarser levels they leave, finish's.
    const left = summary.levelsLeft?.filter((l) => l > 0) ?? [];
    if (left.length > 0) {
      io.stderr.write(`${left.length === 1 ? `level ${left[0]} needs` : `levels ${left.join(', ')} need`} rows of other parts: once every part is done, run\n  slabchunk finish ${store}\n`);
    }
    return 0;
  } finally {
    progress.stop();
    signal.dispose();
  }
}

/**
 * The pyramid in one line: each level's shape in the caller's axes and its voxel size, and the axis order the
 * arrays store (x,y,z for C-layout input, whose x is slowest in the file).
 */
function pyramidLine(levels: readonly LevelSpec[], o: ResolvedConvertOptions): string {
  const axes = o.inputOrder === 'C' ? 'x,y,z (C-layout input: x is the slowest axis)' : 'z,y,x';
  const shapes = levels.map((l) => `${l.level}: ${formatShape(l.shape)} @ ${l.voxelSize.map((v) => +v.toPrecision(6)).join('×')}`).join('; ');
  return `OME-Zarr ${o.zarrFormat === 3 ? '0.5' : '0.4'} pyramid, ${levels.length} levels (${o.downsample}, ${o.unit}), arrays stored ${axes}: ${shapes}`;
}

/**
 * `error` with the exact command line that continues the run: this one, with `--resume` and without
 * `--overwrite`; a part found in the environment (SLURM, Kubernetes) is spelled out as `--part I/N`, so the
 * command run by hand resumes that part, not the whole volume.
 */
function withResumeCommand(error: SlabchunkError, argv: readonly string[], part: Part | undefined): SlabchunkError {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--overwrite' || a === '--resume' || a.startsWith('--parts=')) continue;
    if (a === '--parts') {
      i++;
      continue;
    }
    args.push(a);
  }
  const partArgs = part && !argv.some((a) => a === '--part' || a.startsWith('--part=')) ? ['--part', `${part.index}/${part.count}`] : [];
  // Before the positionals: after a `--` terminator a flag would be taken for one.
  const command = ['slabchunk', 'convert', '--resume', ...partArgs, ...args].map(shellQuote).join(' ');
  // A resumed run reads the input by byte ranges, which standard input cannot give.
  const stdin = args.includes('-') ? '\n(with the input as a file in place of -: a resumed run reads byte ranges of it)' : '';
  return new SlabchunkError(error.code, `${error.message}:\n  ${command}${stdin}`, { cause: error.cause, resumable: true, ...(error.key !== undefined ? { key: error.key } : {}) });
}

/** `text` as one POSIX shell word. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
