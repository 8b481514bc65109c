/**
 * Command lines parsed from the option table: each command names the rows it takes, and node:util's parseArgs
 * gets its flags from them, so a flag cannot exist without a row (and its doc line).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { invalid } from '../core/errors.ts';
import { CLI_OPTIONS, OPTIONS, type OptionRow } from '../ops/options.ts';

export type RowName = keyof typeof OPTIONS | keyof typeof CLI_OPTIONS;

/** A row of either table by name. */
export function rowOf(name: RowName): OptionRow<unknown> {
  return (Object.hasOwn(OPTIONS, name) ? OPTIONS[name as keyof typeof OPTIONS] : CLI_OPTIONS[name as keyof typeof CLI_OPTIONS]) as OptionRow<unknown>;
}

/** What a command takes: its positional arguments, the rows of its options, and one line for the command list. */
export interface CommandSpec {
  readonly args: readonly string[];
  readonly summary: string;
  readonly options: readonly RowName[];
}

export interface ParsedArgs {
  /** Raw option values (strings, or true for switches) by row name; the rows' parsers check them. */
  readonly values: Partial<Record<RowName, string | boolean>>;
  readonly args: readonly string[];
  readonly help: boolean;
  /** The command's arguments as given (after the command name), for messages that repeat the command line. */
  readonly argv: readonly string[];
}

/** Parses `argv` for `command`; EINVALID for an unknown flag or a wrong number of arguments. */
export function parseCommand(command: CommandSpec, argv: string[]): ParsedArgs {
  const config: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const name of command.options) {
    const row = rowOf(name);
    config[row.flag] = { type: row.value === undefined ? 'boolean' : 'string' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (cause) {
    throw invalid(`${(cause as Error).message}; see slabchunk --help`, { cause });
  }
  const raw = parsed.values as Record<string, string | boolean | undefined>;
  const help = raw.help === true;
  if (!help && parsed.positionals.length !== command.args.length) {
    throw invalid(`expected ${command.args.map((p) => `<${p}>`).join(' ')}, got ${parsed.positionals.length} argument(s); see slabchunk --help`);
  }
  const values: Partial<Record<RowName, string | boolean>> = {};
  for (const name of command.options) {
    const value = raw[rowOf(name).flag];
    if (value !== undefined) values[name] = value;
  }
  return { values, args: parsed.positionals, help, argv: [...argv] };
}
