/** `--help` and the README's option table, both rendered from the option table and the command list. */
import { rowOf, type RowName } from './args.ts';
import { COMMANDS } from './commands.ts';

function flagOf(name: RowName): string {
  const row = rowOf(name);
  return `--${row.flag}${row.value ? ` ${row.value}` : ''}`;
}

const plain = (text: string): string => text.replace(/`/g, '');

function defaultNote(name: RowName): string {
  const text = plain(rowOf(name).defaultText);
  if (text === 'required') return ' (required)';
  return text === 'off' || text === 'none' ? '' : ` (default ${text})`;
}

/** The whole `slabchunk --help` text. */
export function usage(): string {
  const commands = Object.entries(COMMANDS).map(([name, c]) => [`${name} ${c.args.map((a) => `<${a}>`).join(' ')}`, c.summary]);
  const cw = Math.max(...commands.map((c) => c[0]!.length));
  const sections = Object.entries(COMMANDS).map(([name, c]) => {
    const rows = c.options.map((o) => [flagOf(o), `${plain(rowOf(o).doc)}${defaultNote(o)}`]);
    const w = Math.max(...rows.map((r) => r[0]!.length));
    return `${name} options:\n${rows.map(([flag, doc]) => `  ${flag!.padEnd(w)}  ${doc}`).join('\n')}`;
  });
  return [
    'Usage: slabchunk <command> [options]',
    '',
    'Commands:',
    ...commands.map(([c, s]) => `  ${c!.padEnd(cw)}  ${s}`),
    '',
    sections.join('\n\n'),
    '',
    'Exit codes: 0 success, 1 failed run, 2 bad arguments, 130 interrupted.',
  ].join('\n');
}

/** The README's table of `convert` options (markdown), exactly as the README must hold it. */
export function optionsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = COMMANDS.convert!.options.map((o) => `| \`${cell(flagOf(o))}\` | ${cell(rowOf(o).doc)} | ${cell(rowOf(o).defaultText)} |`);
  return ['| option | meaning | default |', '|---|---|---|', ...rows].join('\n');
}
