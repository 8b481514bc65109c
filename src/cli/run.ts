/**
 * The `slabchunk` command line: thin commands over the library. `run()` takes argv and streams and returns the exit
 * code (0 ok, 1 failed run, 2 bad arguments, 130 interrupted), so tests call it in-process.
 */
import fs from 'node:fs';
import { SlabchunkError } from '../core/errors.ts';
import { parseCommand } from './args.ts';
import { COMMANDS } from './commands.ts';
import { usage } from './help.ts';
import { RunFailure, type CliIO } from './io.ts';

export type { CliIO } from './io.ts';

/** Runs one `slabchunk` command line; resolves with the exit code, errors reported on `io.stderr`. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return help(io);
  if (name === '--version') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`slabchunk: unknown command ${JSON.stringify(name)}; use one of ${Object.keys(COMMANDS).join(', ')} (see slabchunk --help)\n`);
    return 2;
  }
  try {
    const parsed = parseCommand(command, rest);
    if (parsed.help) return help(io);
    return await (await command.load())(parsed, io);
  } catch (error) {
    return report(error, io);
  }
}

function help(io: CliIO): number {
  io.stdout.write(`${usage()}\n`);
  return 0;
}

/** Prints the error; configuration errors found before work began exit 2, failures of a run 1, interrupts 130. */
function report(thrown: unknown, io: CliIO): number {
  const error = thrown instanceof RunFailure ? thrown.error : thrown;
  if (error instanceof SlabchunkError && error.code === 'EINTERRUPTED') {
    io.stderr.write(`slabchunk: ${error.message}\n`);
    return 130;
  }
  io.stderr.write(`slabchunk: ${error instanceof Error ? error.message : String(error)}\n`);
  const usage = error instanceof SlabchunkError && (error.code === 'EINVALID' || error.code === 'ESIZE' || error.code === 'ESTORE');
  return usage && !(thrown instanceof RunFailure) ? 2 : 1;
}
