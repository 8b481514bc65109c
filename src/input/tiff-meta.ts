/**
 * What a TIFF's ImageDescription says about its planes: OME-XML (dimensions, plane order, voxel size) or an
 * ImageJ hyperstack header. Pure: text in, plane map out.
 */
import { invalid } from '../core/errors.ts';

/** Which plane of a multi-channel, multi-time file is which; physical voxel size where the file gives it. */
export interface PlaneLayout {
  /** `ome` or `imagej`. */
  readonly kind: 'ome' | 'imagej';
  readonly sizeZ: number;
  readonly sizeC: number;
  readonly sizeT: number;
  /** The page (IFD index) holding plane (z, c, t). */
  readonly pageOf: (z: number, c: number, t: number) => number;
  /** `[x, y, z]` in `unit`, when the file states it. */
  readonly voxelSize?: readonly [number, number, number];
  readonly unit?: string;
  /** A TIFF whose OME-XML points at planes in other files: not readable from this file alone. */
  readonly otherFiles?: readonly string[];
  /** What the OME-XML says a plane is (`SizeX`, `SizeY`, `Type`), to check against the pages. */
  readonly plane?: { readonly width?: number; readonly height?: number; readonly type?: string };
}

/** Attributes of an XML start tag, unescaped. */
function attributesOf(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs.set(m[1]!.replace(/^.*:/, ''), (m[2] ?? m[3]!).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'));
  }
  return attrs;
}

const count = (value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
};

/** Powers of ten of a meter of the units OME writes, to put x, y and z in one unit (exactly, as decimal shifts). */
const POWER: Record<string, number> = {
  'pm': -12, 'Å': -10, 'nm': -9, 'µm': -6, 'um': -6, 'μm': -6, 'mm': -3, 'cm': -2, 'm': 0,
};

/**
 * The plane layout of an OME-XML ImageDescription (its first image). `file` names this file in messages;
 * `isThisFile` says whether a TiffData UUID's FileName is this file (default: the same base name).
 */
export function parseOmeXml(xml: string, file: string, isThisFile: (name: string) => boolean = (name) => name === file.split('/').pop()): PlaneLayout {
  const pixelsTag = /<(?:\w+:)?Pixels\b[^>]*>/.exec(xml);
  if (!pixelsTag) throw invalid(`${file}: its OME-XML has no Pixels element`);
  const px = attributesOf(pixelsTag[0]);
  const sizeZ = count(px.get('SizeZ'), 1);
  const sizeC = count(px.get('SizeC'), 1);
  const sizeT = count(px.get('SizeT'), 1);
  const order = px.get('DimensionOrder') ?? 'XYZCT';
  if (!/^XY[ZCT]{3}$/.test(order) || new Set(order).size !== 5) throw invalid(`${file}: OME DimensionOrder ${order} is not one of XYZCT, XYZTC, XYCZT, XYCTZ, XYTZC, XYTCZ`);
  const sizes: Record<string, number> = { Z: sizeZ, C: sizeC, T: sizeT };
  const axes = order.slice(2).split('');
  /** Plane index in DimensionOrder. */
  const indexOf = (at: Record<string, number>) => at[axes[0]!]! + sizes[axes[0]!]! * (at[axes[1]!]! + sizes[axes[1]!]! * at[axes[2]!]!);
  const planes = sizeZ * sizeC * sizeT;

  // TiffData maps runs of planes to IFDs; without any, plane i is IFD i.
  const pixelsBody = xml.slice(pixelsTag.index, xml.search(/<\/(?:\w+:)?Pixels>/) >>> 0);
  const tiffData = [...pixelsBody.matchAll(/<(?:\w+:)?TiffData\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?TiffData>)/g)];
  const ifdOfPlane = new Int32Array(planes).fill(-1);
  const otherFiles = new Set<string>();
  if (tiffData.length === 0) ifdOfPlane.forEach((_, i) => { ifdOfPlane[i] = i; });
  for (const [whole, , body] of tiffData) {
    const a = attributesOf(whole.slice(0, whole.indexOf('>')));
    const uuid = body ? /<(?:\w+:)?UUID\b([^>]*)>/.exec(body) : null;
    const fileName = uuid ? attributesOf(uuid[1]!).get('FileName') : undefined;
    if (fileName !== undefined && !isThisFile(fileName)) {
      otherFiles.add(fileName);
      continue;
    }
    const ifd = count(a.get('IFD'), 0);
    const first = indexOf({ Z: count(a.get('FirstZ'), 0), C: count(a.get('FirstC'), 0), T: count(a.get('FirstT'), 0) });
    const n = count(a.get('PlaneCount'), tiffData.length === 1 && !a.has('IFD') ? planes : 1);
    for (let i = 0; i < n && first + i < planes; i++) ifdOfPlane[first + i] = ifd + i;
  }

  const sizesGiven = ['X', 'Y', 'Z'].map((axis) => px.get(`PhysicalSize${axis}`));
  let voxel: { size: [number, number, number]; unit: string } | undefined;
  if (sizesGiven.some((s) => s !== undefined)) {
    const units = ['X', 'Y', 'Z'].map((axis) => px.get(`PhysicalSize${axis}Unit`) ?? 'µm');
    const unit = units.find((u, i) => sizesGiven[i] !== undefined)!;
    const size = sizesGiven.map((s, i) => {
      if (s === undefined) return 1;
      const value = Number(s);
      const from = POWER[units[i]!];
      const to = POWER[unit];
      if (from === undefined || to === undefined || from === to) return value;
      // Through the decimal text: 2 µm in nm is 2000, not 1999.9999999999998.
      return Number(`${value}e${from - to}`);
    }) as [number, number, number];
    voxel = { size, unit };
  }
  const sizeX = px.has('SizeX') ? count(px.get('SizeX'), 0) : undefined;
  const sizeY = px.has('SizeY') ? count(px.get('SizeY'), 0) : undefined;
  return {
    kind: 'ome', sizeZ, sizeC, sizeT,
    plane: { ...(sizeX !== undefined ? { width: sizeX } : {}), ...(sizeY !== undefined ? { height: sizeY } : {}), ...(px.has('Type') ? { type: px.get('Type')! } : {}) },
    pageOf: (z, c, t) => ifdOfPlane[indexOf({ Z: z, C: c, T: t })]!,
    ...(voxel ? { voxelSize: voxel.size, unit: voxel.unit } : {}),
    ...(otherFiles.size > 0 ? { otherFiles: [...otherFiles] } : {}),
  };
}

/** The plane layout of an ImageJ hyperstack's ImageDescription (`ImageJ=…` lines; planes ordered c, z, t). */
export function parseImageJ(text: string): PlaneLayout {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const sizeC = count(values.get('channels'), 1);
  const sizeT = count(values.get('frames'), 1);
  const images = count(values.get('images'), 1);
  const sizeZ = count(values.get('slices'), Math.max(1, Math.floor(images / (sizeC * sizeT))));
  // Its x and y spacing live in the resolution tags, in units ImageJ may not state: no voxel size is taken.
  return { kind: 'imagej', sizeZ, sizeC, sizeT, pageOf: (z, c, t) => c + sizeC * (z + sizeZ * t) };
}

/** The layout an ImageDescription gives, or undefined for a plain description (pages are z). */
export function planeLayoutOf(description: string | undefined, file: string, isThisFile?: (name: string) => boolean): PlaneLayout | undefined {
  if (!description) return undefined;
  const text = description.trimStart();
  if (text.startsWith('<') && /<(?:\w+:)?OME\b/.test(text)) return parseOmeXml(text, file, isThisFile);
  if (text.startsWith('ImageJ=')) return parseImageJ(text);
  return undefined;
}
