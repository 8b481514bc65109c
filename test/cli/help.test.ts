import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { optionsMarkdown, usage } from '../../src/cli/help.ts';
import { CLI_OPTIONS, CONVERT_OPTIONS, OPTIONS, type OptionRow } from '../../src/ops/options.ts';
import { slabchunk } from '../lib/cli.ts';

test("the README's convert option table is the one the option table renders", () => {
  const lines = fs.readFileSync('README.md', 'utf8').split('\n');
  const first = lines.indexOf('| option | meaning | default |');
  assert.ok(first >= 0, 'README.md has no option table');
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const table = optionsMarkdown();
  assert.is(lines.slice(first, end).join('\n'), table, `README.md's option table is out of date; replace it with:\n\n${table}\n`);
});

test('--help lists every option of the table with its doc line, +crc32c included', async () => {
  const r = await slabchunk(['--help']);
  assert.is(r.code, 0);
  assert.is(r.stdout, `${usage()}\n`);
  for (const row of [...Object.values(OPTIONS), ...Object.values(CLI_OPTIONS)] as OptionRow<unknown>[]) {
    assert.ok(r.stdout.includes(`--${row.flag}${row.value ? ` ${row.value}` : ''}`), `--${row.flag} missing from --help`);
    assert.ok(r.stdout.includes(row.doc.replace(/`/g, '')), `the doc line of --${row.flag} is missing from --help`);
  }
  assert.match(r.stdout, /\+crc32c/);
  assert.match(r.stdout, /verify options:\n\s+--endian little\|big/);
});

test('every row has a flag, a doc line and a default text; flags are unique', () => {
  const flags = [...CONVERT_OPTIONS.map((o) => o.flag), ...Object.values(CLI_OPTIONS).map((o) => o.flag)];
  assert.is(new Set(flags).size, flags.length);
  for (const o of CONVERT_OPTIONS) assert.ok(o.flag && o.doc && o.defaultText, o.name);
});

test.run();
