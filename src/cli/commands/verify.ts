/** `slabchunk verify`: exit 0 when every chunk equals the input, 1 naming every one that differs or is damaged. */
import { checkOption } from '../../ops/options.ts';
import { verifyStore } from '../../ops/verify.ts';
import type { ParsedArgs } from '../args.ts';
import { showProgress, toJsonLine, type CliIO } from '../io.ts';
import { progressReporter } from '../progress.ts';

export async function verifyCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { values } = parsed;
  const endian = values.endian === undefined ? undefined : checkOption('endian', values.endian);
  const header = values.header === undefined ? undefined : checkOption('header', values.header);
  const channel = values.channel === undefined ? undefined : checkOption('channel', values.channel);
  const time = values.time === undefined ? undefined : checkOption('time', values.time);
  const [input, store] = parsed.args as [string, string];
  const progress = progressReporter(io.stderr, 'verify', showProgress(parsed, io));
  try {
    const result = await verifyStore(input === '-' ? io.stdin : input, store, {
      ...(endian ? { endian } : {}),
      ...(header !== undefined ? { header } : {}),
      ...(channel !== undefined ? { channel } : {}),
      ...(time !== undefined ? { time } : {}),
      onProgress: (p) => progress.update(p.bytesIn, p.bytesTotal),
    });
    progress.stop();
    const { differing, damaged, chunksCompared } = result;
    if (values.json) io.stdout.write(toJsonLine(result));
    else if (differing.length === 0 && damaged.length === 0) io.stderr.write(`verified ${store}: all ${chunksCompared} chunks equal ${input}\n`);
    else {
      if (damaged.length > 0) {
        io.stderr.write(`${store} is damaged: ${damaged.length} chunk${damaged.length === 1 ? '' : 's'} cannot be read back; convert again (or restore) the rows that hold them:\n`);
        for (const { message } of damaged) io.stderr.write(`  ${message}\n`);
      }
      if (differing.length > 0) {
        io.stderr.write(`${store} differs from ${input} in ${differing.length} of ${chunksCompared} chunks:\n`);
        for (const key of differing) io.stderr.write(`  ${key}\n`);
      }
    }
    return differing.length === 0 && damaged.length === 0 ? 0 : 1;
  } finally {
    progress.stop();
  }
}
