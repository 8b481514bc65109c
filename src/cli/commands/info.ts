/** `slabchunk info`: what a store holds, as lines or JSON. */
import { formatShape } from '../../core/geometry.ts';
import { inspectStore } from '../../ops/inspect.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, toJsonLine, type CliIO } from '../io.ts';

export async function infoCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const info = await inspectStore(parsed.args[0]!);
  if (parsed.values.json) {
    io.stdout.write(toJsonLine(info));
    return 0;
  }
  const axes = info.dimensionNames?.join(',') ?? '?';
  const lines = [
    `store:      ${info.path} (Zarr v${info.format})`,
    `shape:      [${info.shape.join(', ')}] (${axes}); volume X×Y×Z ${formatShape(info.volumeShape)}, input order ${info.inputOrder}`,
    `dtype:      ${info.dtype}, fill ${String(info.fill)}`,
    `chunks:     [${info.chunks.join(', ')}]`,
    ...(info.shard ? [`shards:     [${info.shard.join(', ')}]`] : []),
    `codecs:     ${JSON.stringify(info.codecs)}`,
    `${info.shard ? 'shards' : 'chunks'} present: ${info.filesPresent} of ${info.filesTotal} (absent ones read as fill)`,
    ...(info.innerChunksPresent === undefined ? [] : [`inner chunks present: ${info.innerChunksPresent} of ${info.innerChunksTotal}`]),
    `on disk:    ${mb(info.bytesOnDisk)}`,
    ...(info.rowsDone === undefined ? [] : [
      `rows done:  ${info.rowsDone} of ${info.rowsTotal}${info.rowsDone < info.rowsTotal ? ' (unfinished: rerun the same convert with --resume)' : ''}`,
    ]),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
