/** `slabchunk export`: the store (or one level of a pyramid, `--level`) back out as raw slabs, to a file or stdout. */
import fs from 'node:fs';
import { formatShape } from '../../core/geometry.ts';
import { exportStore } from '../../ops/export.ts';
import { checkOption, CLI_OPTIONS } from '../../ops/options.ts';
import { openLevel } from '../../zarr/pyramid-reader.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, RunFailure, showProgress, type CliIO } from '../io.ts';
import { progressReporter } from '../progress.ts';

export async function exportCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const [store, output] = parsed.args as [string, string];
  const { level: given, s3Endpoint } = parsed.values;
  const level = given === undefined ? undefined : CLI_OPTIONS.level.parse(given, `--${CLI_OPTIONS.level.flag}`);
  const settings = s3Endpoint === undefined ? {} : { s3Endpoint: checkOption('s3Endpoint', s3Endpoint) };
  // The store (and the level) is opened before the output is created: a mistyped store path or level must not
  // truncate a file.
  const opened = await openLevel(store, level, settings);
  const progress = progressReporter(io.stderr, 'export', showProgress(parsed, io) && output !== '-');
  const out = output === '-' ? io.stdout : fs.createWriteStream(output);
  try {
    const bytes = await exportStore(opened, out, { onProgress: (p) => progress.update(p.bytesOut, p.bytesTotal) });
    progress.stop();
    const what = level === undefined ? store : `level ${level} of ${store} (${formatShape(opened.layout.shape)} ${opened.dtype})`;
    if (output !== '-') io.stderr.write(`exported ${what} -> ${output}: ${mb(bytes)}\n`);
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
