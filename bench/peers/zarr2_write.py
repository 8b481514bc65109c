"""Baseline writer: zarr-python 2 writes a raw F-layout volume into a Zarr v2 store slab-row by slab-row.

Prints JSON {seconds, peakRssBytes}. Chunks equal to the fill value are not written
(write_empty_chunks=False), as slabchunk and tensorstore do by default.
"""
import time

import zarr
from numcodecs import GZip, Zstd

from common import DTYPES, array_shape, report, slab_rows, writer_args


def main():
    args = writer_args(__doc__).parse_args()
    start = time.perf_counter()
    name, level = args.codec
    compressor = {"raw": lambda: None, "zstd": lambda: Zstd(level=level), "gzip": lambda: GZip(level=level)}[name]()
    store = zarr.DirectoryStore(args.store, dimension_separator="/")
    arr = zarr.create(
        shape=array_shape(args.shape), chunks=tuple(reversed(args.chunk)), dtype=DTYPES[args.dtype],
        compressor=compressor, fill_value=0, order="C", store=store, overwrite=True, write_empty_chunks=False,
    )
    for z0, z1, data in slab_rows(args.input, args.shape, args.dtype, args.chunk[2]):
        arr[z0:z1] = data
    report(time.perf_counter() - start)


if __name__ == "__main__":
    main()
