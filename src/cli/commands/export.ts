/** `slabchunk export`: the store back out as raw slabs, to a file or stdout. */
import fs from 'node:fs';
import { exportStore } from '../../ops/export.ts';
import { openStore } from '../../zarr/reader.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, RunFailure, showProgress, type CliIO } from '../io.ts';
import { progressReporter } from '../progress.ts';

export async function exportCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const [store, output] = parsed.args as [string, string];
  // The store is opened before the output is created: a mistyped store path must not truncate a file.
  const opened = await openStore(store);
  const progress = progressReporter(io.stderr, 'export', showProgress(parsed, io) && output !== '-');
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
