/** Stores as files on disk, for byte-identical comparison: one walk for every test that compares trees. */
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';

/** Every file under `root` that `keep` accepts (by its relative path), with its bytes; none when `root` is missing. */
export function fileTree(root: string, keep: (rel: string) => boolean = () => true): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!fs.existsSync(root)) return files;
  for (const rel of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    const full = path.join(root, rel);
    if (fs.statSync(full).isFile() && keep(rel)) files.set(rel, fs.readFileSync(full));
  }
  return files;
}

/** The same files (those `keep` accepts) with the same bytes under `actual` as under `expected`. */
export function assertSameTree(actual: string, expected: string, keep?: (rel: string) => boolean, label = ''): void {
  const a = fileTree(actual, keep);
  const e = fileTree(expected, keep);
  const at = label ? `${label}: ` : '';
  assert.equal([...a.keys()], [...e.keys()], `${at}file lists differ`);
  for (const [name, bytes] of e) assert.ok(a.get(name)!.equals(bytes), `${at}${name} differs`);
}

/** Rows marked done in `store`, ascending. */
export function markedRows(store: string): number[] {
  const rows = path.join(store, '.slabchunk', 'rows');
  return fs.existsSync(rows) ? fs.readdirSync(rows).map(Number).sort((a, b) => a - b) : [];
}
