/**
 * The `slabchunk` command line: thin commands over the library. `run()` takes argv and streams and returns
 * the exit code (0 ok, 1 failed run, 2 bad arguments, 130 interrupted), so tests call it in-process.
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { SlabchunkError } from '../core/errors.ts';
import { CONVERT_OPTIONS, type ConvertOptions } from '../ops/options.ts';
import { formatShape, reverse, type Vec3 } from '../core/geometry.ts';
import { detectPart } from '../ops/partition.ts';
import { progressReporter } from './progress.ts';

export interface CliIO {
  /** Environment to read array-job indices from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

const COMMANDS = `Commands:
  convert <input|-> <store>   raw volume (file or stdin) to a Zarr store
  info <store>                shape, dtype, chunks, codecs, chunks present, bytes on disk
  verify <input|-> <store>    re-read both and name every chunk that differs
  export <store> <output|->   the store back out as raw slabs (the inverse of convert)`;

function usage(): string {
  const rows = CONVERT_OPTIONS.map((o) => [`--${o.flag}${o.valueName ? ` ${o.valueName}` : ''}`, o.description]);
  rows.push(['--parts N', 'number of parts, with JOB_COMPLETION_INDEX (Kubernetes Indexed Job)'], ['--json', 'print the summary as JSON on stdout'], ['--progress / --no-progress', 'progress bar even off a terminal / never (default: on a terminal)']);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return `Usage: slabchunk <command> [options]

${COMMANDS}

convert options:
${rows.map(([flag, text]) => `  ${flag!.padEnd(width)}  ${text}`).join('\n')}

verify options: --endian little|big, --header BYTES, --json, --no-progress (geometry comes from the store)
info options: --json
Exit codes: 0 success, 1 failed run, 2 bad arguments, 130 interrupted.`;
}

type Values = Record<string, string | boolean | undefined>;

const COMMON = {
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse(argv: string[], options: ParseArgsConfig['options'], positionals: string[]): { values: Values; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new SlabchunkError('EINVALID', `${(cause as Error).message}; see slabchunk --help`, { cause });
  }
  const values = parsed.values as Values;
  if (!values.help && parsed.positionals.length !== positionals.length) {
    throw new SlabchunkError('EINVALID', `expected ${positionals.map((p) => `<${p}>`).join(' ')}, got ${parsed.positionals.length} argument(s); see slabchunk --help`);
  }
  return { values, args: parsed.positionals };
}

const convertFlags = {
  ...Object.fromEntries(CONVERT_OPTIONS.map((o) => [o.flag, { type: o.kind === 'boolean' ? 'boolean' : 'string' }])),
  parts: { type: 'string' },
} as ParseArgsConfig['options'];

/** The bar shows on a terminal, or anywhere with --progress; never with --no-progress or --json. */
function showProgress(values: Values, io: CliIO): boolean {
  return !values['no-progress'] && !values.json && (values.progress === true || io.stderr.isTTY === true);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function convertCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, args } = parse(argv, convertFlags, ['input', 'store']);
  if (values.help) return help(io);
  const options: Record<string, unknown> = {};
  // Raw strings: resolveConvertOptions parses each one with the table's own parser.
  for (const o of CONVERT_OPTIONS) if (values[o.flag] !== undefined && o.name !== 'part') options[o.name] = values[o.flag];
  const parts = values.parts === undefined ? undefined : Number(values.parts);
  if (parts !== undefined && !(Number.isSafeInteger(parts) && parts >= 1)) {
    throw new SlabchunkError('EINVALID', `--parts must be an integer ≥ 1. Got: ${String(values.parts)}`);
  }
  const part = detectPart(io.env ?? process.env, values.part as string | undefined, parts);
  if (part) options.part = part;
  const { prepareConvert } = await import('../ops/convert.ts');
  const [input, store] = args as [string, string];
  const progress = progressReporter(io.stderr, 'convert', showProgress(values, io));
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
      const axis = job.options.inputOrder === 'F' ? 'z' : 'x';
      io.stderr.write(a === b
        ? `part ${job.part.index} of ${job.part.count} (${job.part.source}): no rows to convert (${job.rowsTotal} rows for ${job.part.count} parts); nothing to do\n`
        : `part ${job.part.index} of ${job.part.count} (${job.part.source}): rows ${a}–${b - 1} of ${job.rowsTotal} (slabs ${axis} ${z0}–${z1 - 1})\n`);
    }
    const summary = await job.run().catch((error: unknown) => {
      throw new RunFailure(error);
    });
    progress.stop();
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...summary, input }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    } else {
      const o = summary.options;
      io.stderr.write(
        `converted ${input} -> ${store}: ${formatShape(o.shape)} ${o.dtype}` +
          `${summary.part && summary.rows[1] > summary.rows[0] ? ` (part ${summary.part.index} of ${summary.part.count}: rows ${summary.rows[0]}–${summary.rows[1] - 1} of ${summary.rowsTotal})` : ''}, ` +
          `read ${mb(summary.bytesIn)} in ${summary.seconds.toFixed(2)} s ` +
          `(${summary.mbPerSecond.toFixed(0)} MB/s); ${summary.chunksWritten} chunks written (${mb(summary.bytesWritten)}), ` +
          `${summary.chunksSkipped} all-fill skipped${summary.rowsSkipped > 0 ? `, ${summary.rowsSkipped} rows already done` : ''}; ` +
          `peak RSS ${mb(summary.peakRssBytes)}\n`,
      );
    }
    return 0;
  } finally {
    progress.stop();
    signal.dispose();
  }
}

async function infoCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, args } = parse(argv, {}, ['store']);
  if (values.help) return help(io);
  const { inspectStore } = await import('../ops/inspect.ts');
  const info = await inspectStore(args[0]!);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(info, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return 0;
  }
  const axes = info.dimensionNames?.join(',') ?? '?';
  const volume: Vec3 = info.inputOrder === 'F' ? reverse(info.shape) : info.shape;
  const lines = [
    `store:      ${info.path} (Zarr v${info.format})`,
    `shape:      [${info.shape.join(', ')}] (${axes}); volume X×Y×Z ${formatShape(volume)}, input order ${info.inputOrder}`,
    `dtype:      ${info.dtype}, fill ${String(info.fill)}`,
    `chunks:     [${info.chunks.join(', ')}]`,
    ...(info.shard ? [`shards:     [${info.shard.join(', ')}]`] : []),
    `codecs:     ${JSON.stringify(info.codecs)}`,
    `${info.shard ? 'shards' : 'chunks'} present: ${info.filesPresent} of ${info.filesTotal} (absent ones read as fill)`,
    ...(info.innerChunksPresent === undefined ? [] : [`inner chunks present: ${info.innerChunksPresent} of ${info.innerChunksTotal}`]),
    `on disk:    ${mb(info.bytesOnDisk)}`,
    ...(info.rowsDone === undefined ? [] : [
      `rows done:  ${info.rowsDone} of ${info.rowsTotal}${info.rowsDone < info.rowsTotal ? ' (unfinished: rerun the same convert with --resume)' : ''}`,
    ]),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function verifyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, args } = parse(argv, { endian: { type: 'string' }, header: { type: 'string' } }, ['input', 'store']);
  if (values.help) return help(io);
  const endian = values.endian === undefined ? undefined : CONVERT_OPTIONS.find((o) => o.name === 'endian')!.parse(values.endian);
  const header = values.header === undefined ? undefined : CONVERT_OPTIONS.find((o) => o.name === 'header')!.parse(values.header);
  const { verifyStore } = await import('../ops/verify.ts');
  const [input, store] = args as [string, string];
  const progress = progressReporter(io.stderr, 'verify', showProgress(values, io));
  try {
    const result = await verifyStore(input === '-' ? io.stdin : input, store, {
      ...(endian ? { endian: endian as 'little' | 'big' } : {}),
      ...(header !== undefined ? { header: header as number } : {}),
      onProgress: (p) => progress.update(p.bytesIn, p.bytesTotal),
    });
    progress.stop();
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.differing.length === 0) io.stderr.write(`verified ${store}: all ${result.chunksCompared} chunks equal ${input}\n`);
    else {
      io.stderr.write(`${store} differs from ${input} in ${result.differing.length} of ${result.chunksCompared} chunks:\n`);
      for (const key of result.differing) io.stderr.write(`  ${key}\n`);
    }
    return result.differing.length === 0 ? 0 : 1;
  } finally {
    progress.stop();
  }
}

async function exportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, args } = parse(argv, {}, ['store', 'output']);
  if (values.help) return help(io);
  const { exportStore } = await import('../ops/export.ts');
  const { openStore } = await import('../zarr/reader.ts');
  const [store, output] = args as [string, string];
  // The store is opened before the output is created: a mistyped store path must not truncate a file.
  const opened = await openStore(store);
  const progress = progressReporter(io.stderr, 'export', showProgress(values, io) && output !== '-');
  const out = output === '-' ? io.stdout : fs.createWriteStream(output);
  try {
    const bytes = await exportStore(opened, out, { onProgress: (p) => progress.update(p.bytesOut, p.bytesTotal) });
    progress.stop();
    if (output !== '-') io.stderr.write(`exported ${store} -> ${output}: ${mb(bytes)}\n`);
    return 0;
  } catch (error) {
    if (output !== '-') {
      out.destroy();
      await fs.promises.rm(output, { force: true });
    }
    throw new RunFailure(error);
  } finally {
    progress.stop();
  }
}

function help(io: CliIO): number {
  io.stdout.write(`${usage()}\n`);
  return 0;
}

/** SIGINT/SIGTERM abort the running job (streams end with AbortError); handlers removed when done. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

const HANDLERS: Record<string, (argv: string[], io: CliIO) => Promise<number>> = {
  convert: convertCommand,
  info: infoCommand,
  verify: verifyCommand,
  export: exportCommand,
};

/** Runs one `slabchunk` command line; resolves with the exit code, errors reported on `io.stderr`. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return help(io);
  if (command === '--version') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const handler = HANDLERS[command];
  if (!handler) {
    io.stderr.write(`slabchunk: unknown command ${JSON.stringify(command)}; use one of ${Object.keys(HANDLERS).join(', ')} (see slabchunk --help)\n`);
    return 2;
  }
  try {
    return await handler(rest, io);
  } catch (error) {
    return report(error, io);
  }
}

/** An error raised after checks passed and work began: a failed run (exit 1), whatever its code. */
class RunFailure extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
  }
}

function report(thrown: unknown, io: CliIO): number {
  const error = thrown instanceof RunFailure ? thrown.error : thrown;
  if (error instanceof SlabchunkError && error.code === 'EINTERRUPTED') {
    io.stderr.write(`slabchunk: ${error.message}\n`);
    return 130;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`slabchunk: ${message}\n`);
  const usage = error instanceof SlabchunkError && (error.code === 'EINVALID' || error.code === 'ESIZE' || error.code === 'ESTORE');
  return usage && !(thrown instanceof RunFailure) ? 2 : 1;
}
