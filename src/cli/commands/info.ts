/** `slabchunk info`: what a store holds, as lines or JSON; for an OME-Zarr pyramid, every level. */
import { formatShape } from '../../core/geometry.ts';
import { inspectStore, type LevelInfo, type PyramidInfo, type StoreInfo } from '../../ops/inspect.ts';
import { checkOption } from '../../ops/options.ts';
import type { ParsedArgs } from '../args.ts';
import { mb, toJsonLine, type CliIO } from '../io.ts';

export async function infoCommand(parsed: ParsedArgs, io: CliIO): Promise<number> {
  const { s3Endpoint } = parsed.values;
  const info = await inspectStore(parsed.args[0]!, s3Endpoint === undefined ? {} : { s3Endpoint: checkOption('s3Endpoint', s3Endpoint) });
  if (parsed.values.json) {
    io.stdout.write(toJsonLine(info));
    return 0;
  }
  const lines = info.pyramid ? pyramidLines(info, info.pyramid) : arrayLines(info);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function arrayLines(info: StoreInfo): string[] {
  const axes = info.dimensionNames?.join(',') ?? '?';
  return [
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
}

function pyramidLines(info: StoreInfo, pyramid: PyramidInfo): string[] {
  const axes = pyramid.axes.join(',');
  const count = pyramid.levels.length;
  return [
    `store:      ${info.path} (Zarr v${info.format}, OME-Zarr ${pyramid.version ?? '?'} image, ${count} level${count === 1 ? '' : 's'})`,
    `axes:       ${axes}${pyramid.unit ? ` in ${pyramid.unit}` : ''}; volume X×Y×Z ${formatShape(info.volumeShape)}, input order ${info.inputOrder}`,
    `downsample: ${pyramid.method ?? '?'}`,
    `dtype:      ${info.dtype}, fill ${String(info.fill)}`,
    `codecs:     ${JSON.stringify(info.codecs)}`,
    `on disk:    ${mb(info.bytesOnDisk)}`,
    `levels (vectors ${axes}):`,
    ...pyramid.levels.flatMap((level) => levelLines(level, info.shard !== undefined)),
    ...(pyramid.todo ? [`unfinished: level${pyramid.unfinished.length === 1 ? '' : 's'} ${pyramid.unfinished.join(', ')}; ${pyramid.todo}`] : []),
  ];
}

function levelLines(level: LevelInfo, sharded: boolean): string[] {
  const v = (x: readonly number[]) => `[${x.join(', ')}]`;
  const files = `${sharded ? 'shards' : 'chunks'} ${level.filesPresent} of ${level.filesTotal}`;
  const inner = level.innerChunksPresent === undefined ? '' : `, inner chunks ${level.innerChunksPresent} of ${level.innerChunksTotal}`;
  const rows = level.rowsDone === undefined ? '' : `; rows done ${level.rowsDone} of ${level.rowsTotal}${level.unfinished ? ' (unfinished)' : ''}`;
  return [
    `  ${level.level}: shape ${v(level.shape)}, chunks ${v(level.chunks)}${level.shard ? `, shards ${v(level.shard)}` : ''}; `
      + `scale ${v(level.scale)}${level.translation ? `, translation ${v(level.translation)}` : ''}`,
    `     present: ${files}${inner}; ${mb(level.bytesOnDisk)}${rows}`,
  ];
}
