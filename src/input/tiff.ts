/**
 * TIFF inputs: a folder (or glob) of 2-D slices, one file per z in natural order, or one multi-page TIFF,
 * BigTIFF or OME-TIFF whose pages are z. Every page's header is checked before anything is written: size, sample
 * type, one sample per pixel, a compression we decode, data inside the file.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { GeoTIFFImage } from 'geotiff';
import pLimit from 'p-limit';
import { bytesPerElement, type DType } from '../core/dtype.ts';
import { invalid, SlabchunkError } from '../core/errors.ts';
import { formatShape, type Vec3 } from '../core/geometry.ts';
import { identityOf } from './identity.ts';
import { slabStream, type SourceFile, type TiffSource } from './slabs.ts';
import { closeTiffFile, ifdOffsets, imageAt, openTiffFile, openTiffReader, pageTags, type OpenedTiff } from './tiff-read.ts';
import { planeLayoutOf, type PlaneLayout } from './tiff-meta.ts';
import type { DescribedInput, PlaneSelection } from './types.ts';

/** Compression tag values geotiff decodes and slabchunk accepts, with the names messages use. */
const COMPRESSIONS = new Map<number, string>([[1, 'uncompressed'], [5, 'LZW'], [8, 'deflate'], [32946, 'deflate'], [32773, 'PackBits'], [50000, 'zstd']]);

/** File names a folder of slices is made of. */
const TIFF_NAME = /\.tiff?$/i;

/** True when `bytes` (a file's first four) start a TIFF or BigTIFF. */
export function isTiffMagic(bytes: Uint8Array): boolean {
  const le = bytes[0] === 0x49 && bytes[1] === 0x49 && (bytes[2] === 42 || bytes[2] === 43) && bytes[3] === 0;
  const be = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && (bytes[3] === 42 || bytes[3] === 43);
  return le || be;
}

/** True when `name` names TIFF files by extension or holds a glob. */
export function looksLikeTiff(name: string): boolean {
  return TIFF_NAME.test(name) || /\.(btf|tf8)$/i.test(name);
}

/** Natural order: `slice_2` before `slice_10`. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    // Odd pieces are the digit runs.
    if (i % 2 === 1) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return d;
      return pa[i]!.length - pb[i]!.length;
    }
    return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The files a folder or a glob names, in natural order; EINVALID when there are none. */
export async function listSlices(input: string): Promise<string[]> {
  const glob = /[*?[]/.test(input);
  const dir = glob ? path.dirname(input) : input;
  if (/[*?[]/.test(dir)) throw invalid(`input ${input}: only the file name may hold wildcards (e.g. 'scan/slice_*.tif')`);
  const names = await fsp.readdir(dir).catch((cause: NodeJS.ErrnoException) => {
    throw new SlabchunkError('EINVALID', `cannot read folder ${dir}: ${cause.code ?? cause.message}; check the path`, { cause });
  });
  const match = glob ? globRegExp(path.basename(input)) : TIFF_NAME;
  // Dotfiles (macOS's ._slice.tif resource forks) are not slices.
  const files = names.filter((n) => !n.startsWith('.') && match.test(n)).sort(naturalCompare).map((n) => path.join(dir, n));
  if (files.length === 0) throw invalid(glob ? `no file matches ${input}` : `folder ${input} holds no .tif or .tiff files; give a folder of 2-D TIFF slices, a glob, or a file`);
  return files;
}

function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalid(`glob ${pattern}: a [ without its ]`);
      source += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** What one page holds, as checked. */
interface PageInfo {
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  readonly compression: string;
  /** Decoded bytes of one strip or tile, and its height in lines. */
  readonly blockBytes: number;
  readonly blockLines: number;
}

function dtypeOf(bits: number, format: number): DType | undefined {
  if (format === 1) return ({ 8: 'uint8', 16: 'uint16', 32: 'uint32' } as const)[bits as 8];
  if (format === 2) return ({ 8: 'int8', 16: 'int16', 32: 'int32' } as const)[bits as 8];
  if (format === 3) return ({ 32: 'float32', 64: 'float64' } as const)[bits as 32];
  return undefined;
}

/** Checks one page and says what it holds; EINVALID naming `where` and the problem. */
async function checkPage(image: GeoTIFFImage, where: string, fileSize: number): Promise<PageInfo> {
  const t = await pageTags(image);
  const { width, height } = t;
  if (!(width > 0 && height > 0)) throw invalid(`${where} is ${width}×${height} pixels: the file is truncated or damaged`);
  if (t.samples !== 1) throw invalid(`${where} has ${t.samples} samples per pixel (RGB or multi-sample); slabchunk reads one sample per pixel: split the channels first (e.g. Fiji: Image › Color › Split Channels)`);
  const dtype = dtypeOf(t.bits, t.format);
  if (!dtype) {
    const kind = ({ 1: 'unsigned', 2: 'signed', 3: 'float' } as Record<number, string>)[t.format] ?? `SampleFormat ${t.format}`;
    throw invalid(`${where} holds ${t.bits}-bit ${kind} samples; slabchunk reads 8, 16 and 32-bit integers and 32 and 64-bit floats`);
  }
  const compression = COMPRESSIONS.get(t.compression);
  if (!compression) throw invalid(`${where} uses TIFF compression ${t.compression}, which slabchunk does not decode; rewrite it uncompressed, or with LZW, deflate, zstd or PackBits (e.g. tiffcp -c zip IN OUT)`);
  if (t.predictor !== 1 && t.predictor !== 2 && t.predictor !== 3) throw invalid(`${where} uses TIFF predictor ${t.predictor}; slabchunk undoes predictors 2 and 3: rewrite it (tiffcp -c zip:2 IN OUT)`);
  if (t.predictor === 3 && t.format !== 3) throw invalid(`${where} uses the floating-point predictor on ${dtype} samples: the file is damaged`);
  if (t.orientation !== 1) throw invalid(`${where} has Orientation ${t.orientation} (rows or columns stored flipped or rotated); slabchunk reads top-left images (Orientation 1): rewrite it (e.g. tiffcp, or Fiji) first`);
  if (t.fillOrder !== 1) throw invalid(`${where} has FillOrder ${t.fillOrder} (bits stored least significant first); rewrite it with tiffcp -f msb2lsb IN OUT`);
  const what = t.tiled ? 'tile' : 'strip';
  const { offsets, counts, blockWidth: bw, blockHeight: bh } = t;
  if (!offsets || !counts) throw invalid(`${where} has no ${what} offsets: the file is damaged`);
  if (!(Number.isSafeInteger(bw) && bw > 0 && Number.isSafeInteger(bh) && bh > 0)) throw invalid(`${where} has ${what}s of ${bw}×${bh} pixels: the file is damaged`);
  const blocks = Math.ceil(width / bw) * Math.ceil(height / bh);
  if (offsets.length !== blocks || counts.length !== blocks) {
    throw invalid(`${where} lists ${offsets.length} ${what} offsets and ${counts.length} byte counts for the ${blocks} ${what}s of a ${width}×${height} image: the file is truncated or damaged`);
  }
  const elementSize = t.bits / 8;
  for (let i = 0; i < blocks; i++) {
    const offset = offsets[i]!;
    const count = counts[i]!;
    if (offset < 8 || count <= 0) throw invalid(`${where}: ${what} ${i} is at byte ${offset} with ${count} bytes: the file is truncated or damaged`);
    if (offset + count > fileSize) throw invalid(`${where}: ${what} ${i} ends at byte ${offset + count}, past the end of the file (${fileSize} bytes): the file is truncated`);
    // Uncompressed data is read straight into the volume: each strip must hold exactly its rows.
    const rows = t.tiled ? bh : Math.min(bh, height - i * bh);
    if (t.compression === 1 && count < rows * bw * elementSize) throw invalid(`${where}: ${what} ${i} holds ${count} bytes, fewer than its ${bw}×${rows} ${dtype} pixels need: the file is damaged`);
  }
  return { width, height, dtype, compression, blockBytes: bw * bh * elementSize, blockLines: bh };
}

async function openTiff(file: string): Promise<OpenedTiff> {
  try {
    return await openTiffFile(file);
  } catch (error) {
    throw invalid(`${file} is not a readable TIFF (${(error as Error).message}): it is truncated or damaged, or not a TIFF`);
  }
}

async function sourceFile(file: string): Promise<SourceFile & { size: number }> {
  const stat = await fsp.stat(file, { bigint: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new SlabchunkError('EINVALID', `cannot read ${file}: ${cause.code ?? cause.message}`, { cause });
  });
  if (!stat.isFile()) throw invalid(`${file} is not a regular file`);
  return { path: file, identity: identityOf(stat), size: Number(stat.size) };
}

function mismatch(where: string, page: PageInfo, want: PageInfo, firstName: string): SlabchunkError {
  return invalid(`${where} is ${page.width}×${page.height} ${page.dtype}, but ${firstName} is ${want.width}×${want.height} ${want.dtype}: every slice must have the same size and type`);
}

/** `error` as EINVALID naming `file`, unless it already is one of ours. */
function damaged(file: string, error: unknown): SlabchunkError {
  if (error instanceof SlabchunkError) return error;
  return new SlabchunkError('EINVALID', `${file} cannot be read (${(error as Error).message}): the file is truncated or damaged`, { cause: error });
}

/** One slice of a folder: one page, checked. */
async function checkSlice(opened: OpenedTiff, file: string, src: SourceFile & { size: number }): Promise<{ src: SourceFile & { size: number }; info: PageInfo; ifd: number }> {
  const ifds = ifdOffsets(opened);
  if (ifds.length !== 1) throw invalid(`${file} has ${ifds.length} pages; a folder of slices must hold one 2-D page per file (convert a multi-page file on its own)`);
  return { src, info: await checkPage(await imageAt(opened.tiff, ifds[0]!), file, src.size), ifd: ifds[0]! };
}

/** Files checked at once (headers only). */
const CHECKS_AT_ONCE = 16;

/** A folder or glob of one-page TIFF slices: one file per z. */
export async function describeTiffFolder(input: string, selection: PlaneSelection): Promise<DescribedInput> {
  if (selection.channel !== undefined || selection.time !== undefined) throw invalid('--channel and --time pick planes of one multi-channel OME-TIFF or ImageJ file; a folder of slices has one plane per file');
  const paths = await listSlices(input);
  const limit = pLimit(CHECKS_AT_ONCE);
  const checked = await Promise.all(paths.map((file) => limit(async () => {
    const src = await sourceFile(file);
    const opened = await openTiff(file);
    try {
      return await checkSlice(opened, file, src);
    } catch (error) {
      throw damaged(file, error);
    } finally {
      closeTiffFile(opened);
    }
  })));
  const want = checked[0]!.info;

  for (const { src, info } of checked) {
    if (info.width !== want.width || info.height !== want.height || info.dtype !== want.dtype) throw mismatch(src.path, info, want, paths[0]!);
  }
  const compressions = [...new Set(checked.map((c) => c.info.compression))].join('/');
  // A stray image of the same size (a projection, a flat field) would silently become a plane: name the odd ones.
  const patterns = new Map<string, { count: number; example: string }>();
  for (const file of paths) {
    const name = path.basename(file);
    const pattern = name.replace(/\d+/g, '#');
    const seen = patterns.get(pattern);
    if (seen) seen.count++;
    else patterns.set(pattern, { count: 1, example: name });
  }
  const notes = patterns.size > 1
    ? [`the slices of ${input} follow ${patterns.size} name patterns (${[...patterns].slice(0, 5).map(([p, { count, example }]) => `${p}: ${count} file(s), e.g. ${example}`).join('; ')}); every file is a plane, in natural order: give a glob to pick some`]
    : [];
  const files = checked.map(({ src }) => ({ path: src.path, identity: src.identity }));
  return described(input, {
    kind: 'tiff', shape: [want.width, want.height, paths.length], dtype: want.dtype, files, planes: checked.map((c, i) => [i, 0, c.ifd] as const),
    blockLines: want.blockLines, blockBytes: checked.reduce((most, c) => Math.max(most, c.info.blockBytes), 0),
  }, `${paths.length} TIFF slices ${path.basename(paths[0]!)} … ${path.basename(paths.at(-1)!)} (${compressions})`, notes);
}

/** One multi-page TIFF, BigTIFF or OME-TIFF: its pages (of the chosen channel and time point) are z. */
export async function describeTiffFile(input: string, selection: PlaneSelection): Promise<DescribedInput> {
  const src = await sourceFile(input);
  const opened = await openTiff(input);
  const { tiff } = opened;
  try {
    const ifds = ifdOffsets(opened);
    const count = ifds.length;
    const page0 = await imageAt(tiff, ifds[0]!);
    const description = await page0.fileDirectory.loadValue('ImageDescription') as string | undefined;
    // A FileName in OME-XML names this file when it does not name a file beside it (a renamed single-file OME-TIFF).
    const isThisFile = (name: string) => name === path.basename(input) || !fs.existsSync(path.join(path.dirname(input), name));
    const layout = planeLayoutOf(description, input, isThisFile);
    const { pages, what, notes } = selectPlanes(input, layout, count, selection);
    const shaped = tifffileShape(description);
    if (!layout && shaped && shaped.length > 3) {
      notes.push(`${input}'s description gives the shape ${JSON.stringify(shaped)}: its ${count} pages are read as ${count} z-planes; if they interleave channels or time points, split them first`);
    }
    const where = (p: number) => `${input} page ${p}`;
    const want = await checkPage(page0, where(0), src.size);
    checkOmePlane(input, layout, want);
    const compressions = new Set<string>();
    let blockBytes = want.blockBytes;
    for (const p of new Set(pages)) {
      const info = await checkPage(await imageAt(tiff, ifds[p]!), where(p), src.size);
      if (info.width !== want.width || info.height !== want.height || info.dtype !== want.dtype) throw mismatch(where(p), info, want, where(0));
      compressions.add(info.compression);
      blockBytes = Math.max(blockBytes, info.blockBytes);
    }
    const bigTiff = (tiff as unknown as { bigTiff?: boolean }).bigTiff === true;
    const kind = `${layout?.kind === 'ome' ? 'OME-' : layout?.kind === 'imagej' ? 'ImageJ ' : 'multi-page '}${bigTiff ? 'BigTIFF' : 'TIFF'}`;
    return await described(input, {
      kind: 'tiff', shape: [want.width, want.height, pages.length], dtype: want.dtype,
      files: [{ path: src.path, identity: src.identity }], planes: pages.map((p) => [0, p, ifds[p]!] as const), blockLines: want.blockLines, blockBytes,
    }, `${kind}, ${pages.length} of ${count} pages${what} (${[...compressions].join('/')})`, notes, layout);
  } catch (error) {
    throw damaged(input, error);
  } finally {
    closeTiffFile(opened);
  }
}

/** OME types as slabchunk's dtypes (`float` and `double` are OME's names for 32 and 64-bit floats). */
const OME_TYPES: Record<string, DType> = {
  int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32', float: 'float32', double: 'float64',
};

/** The pages must be what the OME-XML says: EINVALID naming both when they are not. */
function checkOmePlane(file: string, layout: PlaneLayout | undefined, page: PageInfo): void {
  const plane = layout?.plane;
  if (!plane) return;
  if ((plane.width !== undefined && plane.width !== page.width) || (plane.height !== undefined && plane.height !== page.height)) {
    throw invalid(`${file}: its OME-XML says planes of ${plane.width}×${plane.height}, but its pages are ${page.width}×${page.height}: the file's metadata is wrong`);
  }
  const type = plane.type === undefined ? undefined : OME_TYPES[plane.type];
  if (plane.type !== undefined && type !== page.dtype) {
    throw invalid(`${file}: its OME-XML says ${plane.type} samples, but its pages hold ${page.dtype}: the file's metadata is wrong`);
  }
}

/** The array shape tifffile records in a plain ImageDescription (`{"shape": [...]}`), if any. */
function tifffileShape(description: string | undefined): number[] | undefined {
  if (!description?.trimStart().startsWith('{')) return undefined;
  try {
    const shape = (JSON.parse(description) as { shape?: unknown }).shape;
    return Array.isArray(shape) && shape.every((n) => Number.isInteger(n)) ? shape as number[] : undefined;
  } catch {
    return undefined;
  }
}

/** The pages of the chosen channel and time point, in z order, and what the summary and notes say of the choice. */
function selectPlanes(file: string, layout: PlaneLayout | undefined, count: number, { channel, time }: PlaneSelection): { pages: number[]; what: string; notes: string[] } {
  if (!layout) {
    if ((channel ?? 0) > 0 || (time ?? 0) > 0) throw invalid(`${file} has one channel and one time point; drop --channel and --time`);
    return { pages: Array.from({ length: count }, (_, z) => z), what: '', notes: [] };
  }
  const several = layout.sizeC > 1 || layout.sizeT > 1;
  if (!several && ((channel ?? 0) > 0 || (time ?? 0) > 0)) throw invalid(`${file} has one channel and one time point; drop --channel and --time`);
  const c = channel ?? 0;
  const t = time ?? 0;
  if (c >= layout.sizeC) throw invalid(`--channel ${c} is outside ${file}'s channels 0…${layout.sizeC - 1}`);
  if (t >= layout.sizeT) throw invalid(`--time ${t} is outside ${file}'s time points 0…${layout.sizeT - 1}`);
  const pages = Array.from({ length: layout.sizeZ }, (_, z) => layout.pageOf(z, c, t));
  const missing = pages.indexOf(-1);
  if (missing >= 0) {
    if (layout.otherFiles) throw invalid(`${file} is part of a multi-file OME-TIFF (plane z=${missing}, c=${c}, t=${t} is in ${layout.otherFiles.join(' or ')}); slabchunk reads single-file OME-TIFFs`);
    throw invalid(`${file}: its OME-XML maps no page to plane z=${missing}, c=${c}, t=${t}`);
  }
  const beyond = pages.find((p) => p >= count);
  if (beyond !== undefined) {
    throw invalid(layout.kind === 'imagej'
      ? `${file} is an ImageJ stack of ${layout.sizeZ * layout.sizeC * layout.sizeT} planes with ${count} IFDs (ImageJ writes one IFD for stacks over 4 GiB); slabchunk needs one IFD per plane: save it as OME-TIFF or BigTIFF (Fiji: File › Export › Bio-Formats)`
      : `${file}: its OME-XML places a plane on page ${beyond}, but the file has ${count} pages: it is truncated or its metadata is wrong`);
  }
  if (!several) return { pages, what: '', notes: [] };
  const notes = channel === undefined || time === undefined
    ? [`${file} holds ${layout.sizeC} channel(s) and ${layout.sizeT} time point(s); converting channel ${c}, time point ${t} (choose with --channel and --time)`]
    : [];
  return { pages, what: `, channel ${c} of ${layout.sizeC}, time point ${t} of ${layout.sizeT}`, notes };
}

/**
 * Decodes the first strip (tile row) of the first plane: a compression damaged from its start, or one geotiff
 * cannot decode after all, is refused before anything is written, not found by the first fill task.
 */
async function checkDecodes(name: string, source: TiffSource): Promise<void> {
  const reader = openTiffReader(source);
  const lines = Math.min(source.blockLines, source.shape[1]);
  try {
    await reader.read({ z0: 0, z1: 1, y0: 0, y1: lines }, new Uint8Array(lines * source.shape[0] * bytesPerElement(source.dtype)), 0);
  } catch (error) {
    throw new SlabchunkError('EINVALID', `${name}: ${(error as Error).message}`, { cause: error });
  } finally {
    reader.close();
  }
}

async function described(name: string, source: TiffSource, summary: string, notes: string[], layout?: PlaneLayout): Promise<DescribedInput> {
  await checkDecodes(name, source);
  return {
    input: { name, seekable: true, slabs: source, read: (range) => slabStream(source, range) },
    shape: source.shape, dtype: source.dtype,
    ...(layout?.voxelSize ? { voxelSize: layout.voxelSize, unit: layout.unit! } : {}),
    summary: `${summary}, ${formatShape(source.shape as Vec3)} ${source.dtype}${layout?.voxelSize ? `, voxel ${layout.voxelSize.join('×')} ${layout.unit}` : ''}`,
    notes,
  };
}
