/**
 * Reading TIFF planes: geotiff.js parses the IFDs and decodes zstd and the predictors; deflate goes through
 * node:zlib (native, about twice pako's speed), LZW and PackBits through bounded decoders of ours; the bytes are
 * read and placed here. An uncompressed plane
 * whose strips lie end to end is one positioned read straight into the row; others are read strip by strip (tile by
 * tile), decoded and copied line by line — geotiff's own readRasters converts every pixel through a DataView call,
 * several times slower. Each engine worker has its own reader, so planes decode on every core.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { addDecoder, BaseDecoder, GeoTIFF, GeoTIFFImage, getDecoder } from 'geotiff';
import { bytesPerElement, swapElements } from '../core/dtype.ts';
import { decodeLzw } from './lzw.ts';
import { readAt } from './read-at.ts';
import { decodePackBits } from './packbits.ts';
import { SlabchunkError } from '../core/errors.ts';
import type { SlabReader, TiffSource } from './slabs.ts';

/** TIFF Compression tag values: deflate (Adobe and the old code), LZW. */
const DEFLATE_COMPRESSIONS = [8, 32946] as const;
const LZW_COMPRESSION = 5;
const PACKBITS_COMPRESSION = 32773;

/** Decoded bytes of one strip or tile: what a decoder may produce, and no more. */
function blockCapacity(decoder: BaseDecoder): number {
  const { tileWidth, tileHeight, bitsPerSample } = decoder.parameters;
  const bits = typeof bitsPerSample === 'number' ? bitsPerSample : Number(bitsPerSample[0]);
  return tileWidth * tileHeight * Math.ceil(bits / 8);
}

function ownBuffer(out: Uint8Array): ArrayBuffer {
  return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer as ArrayBuffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}

class ZlibDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    try {
      // Bounded: a damaged strip must not inflate until the thread runs out of memory.
      return ownBuffer(zlib.inflateSync(new Uint8Array(buffer), { maxOutputLength: blockCapacity(this) }));
    } catch (error) {
      throw new Error(`a deflate strip or tile cannot be inflated (${(error as Error).message}): the file is damaged`);
    }
  }
}
addDecoder([...DEFLATE_COMPRESSIONS], () => Promise.resolve(ZlibDecoder));

class BoundedLzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    return ownBuffer(decodeLzw(new Uint8Array(buffer), blockCapacity(this)));
  }
}
addDecoder(LZW_COMPRESSION, () => Promise.resolve(BoundedLzwDecoder));

class BoundedPackBitsDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    return ownBuffer(decodePackBits(new Uint8Array(buffer), blockCapacity(this)));
  }
}
addDecoder(PACKBITS_COMPRESSION, () => Promise.resolve(BoundedPackBitsDecoder));

/** Files a reader keeps open: a folder of slices is read a few files at a time, in order. */
const OPEN_FILES = 4;

/** How a page's pixels are stored: where each strip or tile lies, and how to decode it. */
interface PageLayout {
  /** An uncompressed plane whose strips lie end to end, in line order: the file offset of its first byte. */
  readonly direct: number | null;
  readonly littleEndian: boolean;
  readonly tiled: boolean;
  /** Strip or tile width and height in pixels (a strip is as wide as the plane). */
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly offsets: readonly number[];
  readonly counts: readonly number[];
  /** Decodes one strip or tile, in the file's byte order (predictor undone, except `swappedPredictor`'s). */
  readonly decoder: BaseDecoder | null;
  /**
   * A horizontal predictor geotiff would undo wrongly — on a big-endian file's multi-byte samples (in the
   * machine's byte order) or on 64-bit samples (not at all): undone here instead, once the block is little-endian.
   */
  readonly swappedPredictor: boolean;
  /** Decoded blocks are in the file's byte order (false: little-endian already, as the float predictor leaves them). */
  readonly inFileOrder: boolean;
}

interface OpenFile extends OpenedTiff {
  /** Layouts of the pages read last, by IFD offset (a few: a file may have a hundred thousand pages). */
  readonly pages: Map<number, Promise<PageLayout>>;
}

/** Page layouts a reader keeps per file. */
const KEPT_PAGES = 8;

/**
 * `map`'s value for `key`, made by `make` when absent, as the most recently used; past `limit` entries the least
 * recently used one is dropped (and handed to `drop`).
 */
function recent<K, V>(map: Map<K, V>, key: K, limit: number, make: () => V, drop?: (value: V) => void): V {
  const known = map.get(key);
  // A Map keeps insertion order: re-inserting moves the entry last.
  if (known !== undefined) map.delete(key);
  const value = known ?? make();
  map.set(key, value);
  if (map.size > limit) {
    const [oldest, old] = map.entries().next().value!;
    map.delete(oldest);
    drop?.(old);
  }
  return value;
}

/** The page whose IFD is at `offset`, parsed on its own (geotiff's getImage(i) parses and keeps IFDs 0…i). */
export async function imageAt(tiff: GeoTIFF, offset: number): Promise<GeoTIFFImage> {
  return new GeoTIFFImage(await tiff.parser.parseFileDirectoryAt(offset), tiff.littleEndian, false, tiff.source);
}

/**
 * The byte offsets of every IFD of `file`, read from the chain with a couple of small reads each (no tag is
 * parsed). Throws naming the problem when the chain leaves the file or loops.
 */
export function ifdOffsets(file: OpenedTiff): number[] {
  const { tiff, fd } = file;
  const size = fs.fstatSync(fd).size;
  const big = (tiff as unknown as { bigTiff: boolean }).bigTiff;
  const le = tiff.littleEndian;
  const head = Buffer.alloc(8);
  const read = (at: number, n: 2 | 4 | 8): number => {
    if (at + n > size) throw new Error(`an IFD pointer leads to byte ${at}, past the end of the file (${size} bytes): it is truncated`);
    fs.readSync(fd, head, 0, n, at);
    if (n === 2) return le ? head.readUInt16LE(0) : head.readUInt16BE(0);
    if (n === 4) return le ? head.readUInt32LE(0) : head.readUInt32BE(0);
    return Number(le ? head.readBigUInt64LE(0) : head.readBigUInt64BE(0));
  };
  const offsets: number[] = [];
  const seen = new Set<number>();
  for (let at = tiff.firstIFDOffset; at !== 0;) {
    if (seen.has(at)) throw new Error(`its IFD chain loops back to byte ${at}: the file is damaged`);
    seen.add(at);
    offsets.push(at);
    const count = big ? read(at, 8) : read(at, 2);
    at = big ? read(at + 8 + count * 20, 8) : read(at + 2 + count * 12, 4);
  }
  return offsets;
}

/** A TIFF opened for geotiff, over our own descriptor. */
export interface OpenedTiff {
  readonly tiff: GeoTIFF;
  readonly fd: number;
}

/**
 * Opens `path` for geotiff with a source of synchronous positioned reads on one descriptor. geotiff's own file
 * source reads through libuv's pool, where the run's chunk encodes queue: every IFD of every page would wait
 * behind them. It also zero-fills a read past the end, so a truncated file's strip offsets read as zeros; here
 * a read past the end comes back short, and geotiff fails on it.
 */
export async function openTiffFile(path: string): Promise<OpenedTiff> {
  const fd = fs.openSync(path, 'r');
  const read = (offset: number, length: number): ArrayBuffer => {
    const bytes = new Uint8Array(length);
    return bytes.buffer.slice(0, readAt(fd, bytes, 0, length, offset));
  };
  const source = {
    fetch: (slices: { offset: number; length: number }[]) => Promise.resolve(slices.map((s) => read(s.offset, s.length))),
    fetchSlice: (slice: { offset: number; length: number }) => Promise.resolve({ ...slice, data: read(slice.offset, slice.length) }),
    get fileSize() {
      return fs.fstatSync(fd).size;
    },
    close: () => Promise.resolve(),
  };
  try {
    return { tiff: await GeoTIFF.fromSource(source as never), fd };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/**
 * Where an uncompressed plane's bytes start when its strips lie end to end, in line order, each exactly its lines
 * (no padding between them); else null.
 */
function directOffset(offsets: readonly number[], counts: readonly number[], rowsPerStrip: number, height: number, lineBytes: number): number | null {
  let total = 0;
  for (let i = 0; i < offsets.length; i++) {
    const rows = Math.min(rowsPerStrip, height - i * rowsPerStrip);
    if (offsets[i] !== offsets[0]! + total || counts[i] !== rows * lineBytes) return null;
    total += rows * lineBytes;
  }
  return total === height * lineBytes ? offsets[0]! : null;
}

/** A tag's value, or the first of several (a tag some writer repeated per sample); `fallback` when absent. */
function first(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  const list = value as ArrayLike<number>;
  return list.length > 0 ? Number(list[0]) : fallback;
}

/** The tags of one page that the checks and the reader use, read one way for both. */
export interface PageTags {
  readonly width: number;
  readonly height: number;
  readonly samples: number;
  readonly bits: number;
  /** TIFF SampleFormat: 1 unsigned, 2 signed, 3 float. */
  readonly format: number;
  readonly compression: number;
  readonly predictor: number;
  readonly orientation: number;
  readonly fillOrder: number;
  readonly littleEndian: boolean;
  readonly tiled: boolean;
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly offsets: readonly number[] | undefined;
  readonly counts: readonly number[] | undefined;
}

export async function pageTags(image: GeoTIFFImage): Promise<PageTags> {
  const dir = image.fileDirectory;
  const tiled = !dir.hasTag('StripOffsets');
  const list = async (tag: 'TileOffsets' | 'StripOffsets' | 'TileByteCounts' | 'StripByteCounts') => {
    const values = await dir.loadValue(tag) as ArrayLike<number> | number | undefined;
    return values === undefined ? undefined : typeof values === 'number' ? [values] : Array.from(values, Number);
  };
  const width = image.getWidth();
  const height = image.getHeight();
  return {
    width, height, tiled,
    samples: first(dir.getValue('SamplesPerPixel'), 1),
    bits: first(dir.getValue('BitsPerSample'), 1),
    format: first(dir.getValue('SampleFormat'), 1),
    compression: first(dir.getValue('Compression'), 1),
    predictor: first(await dir.loadValue('Predictor'), 1),
    orientation: first(await dir.loadValue('Orientation'), 1),
    fillOrder: first(await dir.loadValue('FillOrder'), 1),
    littleEndian: image.littleEndian,
    blockWidth: tiled ? first(dir.getValue('TileWidth'), 0) : width,
    blockHeight: tiled ? first(dir.getValue('TileLength'), 0) : Math.min(height, first(dir.getValue('RowsPerStrip'), height)),
    offsets: await list(tiled ? 'TileOffsets' : 'StripOffsets'),
    counts: await list(tiled ? 'TileByteCounts' : 'StripByteCounts'),
  };
}

async function pageLayout(image: GeoTIFFImage, lineBytes: number): Promise<PageLayout> {
  const t = await pageTags(image);
  const offsets = t.offsets ?? [];
  const counts = t.counts ?? [];
  const direct = t.compression === 1 && !t.tiled ? directOffset(offsets, counts, t.blockHeight, t.height, lineBytes) : null;
  const swappedPredictor = t.predictor === 2 && t.bits > 8 && (!t.littleEndian || t.bits === 64);
  const decoder = t.compression === 1 && t.predictor === 1
    ? null
    : await getDecoder(t.compression, { tileWidth: t.blockWidth, tileHeight: t.blockHeight, predictor: swappedPredictor ? 1 : t.predictor, bitsPerSample: t.bits, planarConfiguration: 1 });
  return {
    direct, littleEndian: t.littleEndian, tiled: t.tiled, blockWidth: t.blockWidth, blockHeight: t.blockHeight, offsets, counts, decoder, swappedPredictor,
    // The floating-point predictor's output is little-endian whatever the file's order (TIFF Technical Note 3).
    inFileOrder: t.predictor !== 3,
  };
}

/** A reader of the planes of `source`, for one thread. */
export function openTiffReader(source: TiffSource): SlabReader {
  const [width] = source.shape;
  const elementSize = bytesPerElement(source.dtype);
  const lineBytes = width * elementSize;
  const open = new Map<number, Promise<OpenFile>>();

  const fileOf = (index: number): Promise<OpenFile> => recent(open, index, OPEN_FILES,
    () => openTiffFile(source.files[index]!.path).then((file) => ({ ...file, pages: new Map<number, Promise<PageLayout>>() })),
    (file) => void file.then(closeTiffFile, () => undefined));

  const layoutOf = (file: OpenFile, ifd: number): Promise<PageLayout> => recent(file.pages, ifd, KEPT_PAGES,
    () => imageAt(file.tiff, ifd).then((image) => pageLayout(image, lineBytes)));

  /** Reads `length` bytes at `position` of `fd` into `dest` from `at`; a short read is a truncated file. */
  const readFully = (fd: number, dest: Uint8Array, at: number, length: number, position: number): void => {
    const done = readAt(fd, dest, at, length, position);
    if (done < length) throw new Error(`it ends at byte ${position + done}, inside the plane's data: it was truncated`);
  };

  /** The block decoded last: a read of part of a plane may end inside a strip the next read starts in. */
  let cached: { layout: PageLayout; index: number; data: Uint8Array } | undefined;

  /** One strip or tile, decoded (predictor undone), little-endian. */
  const block = async (file: OpenFile, layout: PageLayout, index: number): Promise<Uint8Array> => {
    if (cached?.layout === layout && cached.index === index) return cached.data;
    const data = await decodeBlock(file, layout, index);
    cached = { layout, index, data };
    return data;
  };

  const decodeBlock = async (file: OpenFile, layout: PageLayout, index: number): Promise<Uint8Array> => {
    const stored = new Uint8Array(layout.counts[index]!);
    readFully(file.fd, stored, 0, stored.length, layout.offsets[index]!);
    const data = layout.decoder ? new Uint8Array(await layout.decoder.decode(stored.buffer)) : stored;
    if (!layout.littleEndian && layout.inFileOrder && elementSize > 1) swapElements(Buffer.from(data.buffer, data.byteOffset, data.length - (data.length % elementSize)), elementSize);
    if (layout.swappedPredictor) undoHorizontalPredictor(data, layout.blockWidth, elementSize as 2 | 4 | 8);
    return data;
  };

  const readPlane = async (z: number, y0: number, y1: number, dest: Uint8Array): Promise<void> => {
    const [fileIndex, page, ifd] = source.planes[z]!;
    const where = `${source.files[fileIndex]!.path}${source.files.length === 1 ? ` page ${page}` : ''}`;
    try {
      const file = await fileOf(fileIndex);
      const layout = await layoutOf(file, ifd);
      if (layout.direct !== null) {
        readFully(file.fd, dest, 0, dest.length, layout.direct + y0 * lineBytes);
        if (!layout.littleEndian && elementSize > 1) swapElements(Buffer.from(dest.buffer, dest.byteOffset, dest.length), elementSize);
      } else {
        const { blockWidth: bw, blockHeight: bh } = layout;
        const across = Math.ceil(width / bw);
        let lines = 0;
        for (let by = Math.floor(y0 / bh); by * bh < y1; by++) {
          for (let bx = 0; bx < across; bx++) {
            const data = await block(file, layout, by * across + bx);
            // A strip is as wide as the plane; a tile's row is `bw` wide, of which the plane's edge may use less.
            const rowBytes = bw * elementSize;
            const used = Math.min(bw, width - bx * bw) * elementSize;
            for (let y = Math.max(y0, by * bh); y < Math.min(y1, (by + 1) * bh); y++) {
              const from = (y - by * bh) * rowBytes;
              if (from + used > data.length) throw new Error(`a ${layout.tiled ? 'tile' : 'strip'} decoded to ${data.length} bytes, too few for its rows`);
              dest.set(data.subarray(from, from + used), (y - y0) * lineBytes + bx * bw * elementSize);
              if (bx === 0) lines++;
            }
          }
        }
        if (lines !== y1 - y0) throw new Error(`its strips or tiles gave ${lines} of lines ${y0}…${y1 - 1}: the file is damaged`);
      }
    } catch (error) {
      throw new SlabchunkError('EREAD', `could not read ${where} (plane z=${z}): ${(error as Error).message}`, { cause: error, key: source.files[fileIndex]!.path });
    }
  };

  return {
    async read({ z0, z1, y0, y1 }, dest, planeStride) {
      const bytes = (y1 - y0) * lineBytes;
      for (let z = z0; z < z1; z++) await readPlane(z, y0, y1, dest.subarray((z - z0) * planeStride, (z - z0) * planeStride + bytes));
    },
    close() {
      for (const file of open.values()) void file.then(closeTiffFile, () => undefined);
      open.clear();
    },
  };
}

/** TIFF predictor 2 undone on little-endian samples: each row's samples are running sums of the stored differences. */
function undoHorizontalPredictor(data: Uint8Array, width: number, elementSize: 2 | 4 | 8): void {
  const View = elementSize === 2 ? Uint16Array : elementSize === 4 ? Uint32Array : BigUint64Array;
  const rows = Math.floor(data.length / (width * elementSize));
  const values = new View(data.buffer as ArrayBuffer, data.byteOffset, rows * width);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * width, (r + 1) * width);
    if (row instanceof BigUint64Array) for (let i = 1; i < width; i++) row[i] = BigInt.asUintN(64, row[i]! + row[i - 1]!);
    else for (let i = 1; i < width; i++) row[i] = row[i]! + row[i - 1]!;
  }
}

/** Closes a file opened by {@link openTiffFile}. */
export function closeTiffFile(file: OpenedTiff): void {
  fs.closeSync(file.fd);
}
