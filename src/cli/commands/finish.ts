/** `slabchunk finish`: the pyramid levels a split job's parts left, made from what they wrote. */
import { finish } from '../../ops/finish.ts';
import { checkOption } from '../../ops/options.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, RunFailure, toJsonLine, type CliIO } from '../io.ts';
import { interruptSignal } from '../signals.ts';

export async function finishCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { values } = parsed;
  const store = parsed.args[0]!;
  const options = {
    ...(values.threads !== undefined ? { threads: checkOption('threads', values.threads) } : {}),
    ...(values.maxMemory !== undefined ? { maxMemory: checkOption('maxMemory', values.maxMemory) } : {}),
    ...(values.concurrency !== undefined ? { concurrency: checkOption('concurrency', values.concurrency) } : {}),
    ...(values.fsync !== undefined ? { fsync: checkOption('fsync', values.fsync) } : {}),
    ...(values.s3Endpoint !== undefined ? { s3Endpoint: checkOption('s3Endpoint', values.s3Endpoint) } : {}),
  };
  const signal = interruptSignal();
  try {
    const result = await finish(store, { ...options, signal: signal.signal })
      .catch((error: unknown) => {
        throw new RunFailure(error);
      });
    if (values.json) {
      io.stdout.write(toJsonLine(result));
      return 0;
    }
    const made = result.rowsMade.map((n, l) => (n > 0 ? `level ${l}: ${n} rows` : '')).filter(Boolean);
    const read = result.rowsRead.map((n, l) => (n > 0 ? `level ${l}: ${n} rows` : '')).filter(Boolean);
    io.stderr.write(made.length === 0
      ? `${store}: every level of the ${result.levels}-level pyramid was already finished; nothing to do\n`
      : `finished ${store}: made ${made.join(', ')} from ${read.join(', ')} read back; ${result.chunksWritten} chunks written (${mb(result.bytesStored)}) in ${result.seconds.toFixed(2)} s\n`);
    return 0;
  } finally {
    signal.dispose();
  }
}
