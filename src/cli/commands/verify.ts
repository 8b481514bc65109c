/**
 * `slabchunk verify`: exit 0 when every chunk equals the input (for a pyramid: level 0 the input, every other level
 * the one above downsampled again), 1 naming every one that differs or is damaged.
 */
import { checkOption } from '../../ops/options.ts';
import { verifyStore, type VerifyResult } from '../../ops/verify.ts';
import type { ParsedArgs } from '../args.ts';
import { showProgress, toJsonLine, type CliIO } from '../io.ts';
import { progressReporter } from '../progress.ts';

export async function verifyCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { values } = parsed;
  const endian = values.endian === undefined ? undefined : checkOption('endian', values.endian);
  const header = values.header === undefined ? undefined : checkOption('header', values.header);
  const channel = values.channel === undefined ? undefined : checkOption('channel', values.channel);
  const time = values.time === undefined ? undefined : checkOption('time', values.time);
  const s3Endpoint = values.s3Endpoint === undefined ? undefined : checkOption('s3Endpoint', values.s3Endpoint);
  const [input, store] = parsed.args as [string, string];
  const progress = progressReporter(io.stderr, 'verify', showProgress(parsed, io));
  try {
    const result = await verifyStore(input === '-' ? io.stdin : input, store, {
      ...(endian ? { endian } : {}),
      ...(header !== undefined ? { header } : {}),
      ...(channel !== undefined ? { channel } : {}),
      ...(time !== undefined ? { time } : {}),
      ...(s3Endpoint !== undefined ? { s3Endpoint } : {}),
      onProgress: (p) => progress.update(p.bytesIn, p.bytesTotal),
    });
    progress.stop();
    if (values.json) io.stdout.write(toJsonLine(result));
    else if (!result.levels) report(io, store, input, result);
    else {
      for (const level of result.levels) {
        if (level.skipped) {
          io.stderr.write(`level ${level.level} of ${store} not checked: ${level.skipped}\n`);
          continue;
        }
        // Keys as the store has them, below the group: `1/c/0/0/0`.
        const keyed = { ...level, differing: level.differing.map((key) => `${level.path}/${key}`) };
        report(io, `level ${level.level} of ${store}${level.unfinished ? ' (unfinished)' : ''}`, level.against === 'input' ? input : `${level.against} downsampled again`, keyed);
      }
      if (result.todo) io.stderr.write(`${store} has unfinished levels, whose missing chunks read as fill: ${result.todo}\n`);
    }
    return result.differing.length === 0 && result.damaged.length === 0 ? 0 : 1;
  } finally {
    progress.stop();
  }
}

/** What one comparison found, on stderr: `what` (a store, or a level of one) against `reference`. */
function report(io: CliIO, what: string, reference: string, found: Pick<VerifyResult, 'differing' | 'damaged' | 'chunksCompared'>): void {
  const { differing, damaged, chunksCompared } = found;
  if (differing.length === 0 && damaged.length === 0) {
    io.stderr.write(`verified ${what}: all ${chunksCompared} chunks equal ${reference}\n`);
    return;
  }
  if (damaged.length > 0) {
    io.stderr.write(`${what} is damaged: ${damaged.length} chunk${damaged.length === 1 ? '' : 's'} cannot be read back; convert again (or restore) the rows that hold them:\n`);
    for (const { message } of damaged) io.stderr.write(`  ${message}\n`);
  }
  if (differing.length > 0) {
    io.stderr.write(`${what} differs from ${reference} in ${differing.length} of ${chunksCompared} chunks:\n`);
    for (const key of differing) io.stderr.write(`  ${key}\n`);
  }
}
