/** `slabchunk view`: serves the store and the viewer until SIGINT/SIGTERM, prints the URL, opens a browser. */
import { spawn } from 'node:child_process';
import { serveStore } from '../../ops/view.ts';
import { checkOption, CLI_OPTIONS } from '../../ops/options.ts';
import type { ParsedArgs } from '../args.ts';
import type { CliIO } from '../io.ts';
import { interruptSignal } from '../signals.ts';

export async function viewCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { values } = parsed;
  const [store] = parsed.args as [string];
  const port = values.port === undefined ? 0 : CLI_OPTIONS.port.parse(values.port, `--${CLI_OPTIONS.port.flag}`);
  // Listening before the signal handlers go in: a bad store or a taken port ends the command at once.
  const s3Endpoint = values.s3Endpoint === undefined ? undefined : checkOption('s3Endpoint', values.s3Endpoint);
  const server = await serveStore(store, { port, ...(s3Endpoint !== undefined ? { s3Endpoint } : {}) });
  const signal = interruptSignal();
  try {
    io.stdout.write(`${server.url}\n`);
    io.stderr.write(`serving ${store} at ${server.storeUrl} with neuroglancer; open the URL above, press Ctrl-C to stop\n`);
    if (values.noOpen !== true) openBrowser(server.url);
    if (!signal.signal.aborted) await new Promise((resolve) => signal.signal.addEventListener('abort', resolve, { once: true }));
    return 130;
  } finally {
    signal.dispose();
    await server.close();
  }
}

/** Best effort: a machine without a desktop (no `xdg-open`) still has the printed URL. */
function openBrowser(url: string): void {
  try {
    const child = spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // spawn throws synchronously only for arguments it cannot pass; the URL is printed either way.
  }
}
