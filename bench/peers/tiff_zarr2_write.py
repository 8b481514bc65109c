"""Baseline writer: tifffile reads a TIFF folder (one file per z) or a multi-page TIFF page by page, and
zarr-python 2 writes a Zarr v2 store chunk-row by chunk-row (chunk-depth pages buffered, as a script a user writes
would), zstd at the given level. Prints JSON {seconds, peakRssBytes}.

    python3 tiff_zarr2_write.py INPUT STORE --shape X,Y,Z [--chunk X,Y,Z] [--codec zstd:3]
"""
import glob
import os
import time

import numpy as np
import tifffile
import zarr
from numcodecs import Zstd

from common import DTYPES, array_shape, report, writer_args


def pages(path, z):
    """Yields the volume's z-planes in order."""
    if os.path.isdir(path):
        for name in sorted(glob.glob(os.path.join(path, "*.tif"))):
            yield tifffile.imread(name)
        return
    with tifffile.TiffFile(path) as tif:
        for k in range(z):
            yield tif.pages[k].asarray()


def main():
    args = writer_args(__doc__).parse_args()
    start = time.perf_counter()
    _, level = args.codec
    x, y, z = args.shape
    depth = args.chunk[2]
    arr = zarr.create(
        shape=array_shape(args.shape), chunks=tuple(reversed(args.chunk)), dtype=DTYPES[args.dtype],
        compressor=Zstd(level=level), fill_value=0, order="C",
        store=zarr.DirectoryStore(args.store, dimension_separator="/"), overwrite=True, write_empty_chunks=False,
    )
    row = np.empty((depth, y, x), dtype=np.dtype(DTYPES[args.dtype]))
    z0 = 0
    for k, plane in enumerate(pages(args.input, z)):
        row[k - z0] = plane
        if k + 1 - z0 == depth or k + 1 == z:
            arr[z0:k + 1] = row[: k + 1 - z0]
            z0 = k + 1
    report(time.perf_counter() - start)


if __name__ == "__main__":
    main()
