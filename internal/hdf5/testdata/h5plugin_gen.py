# Writes datasets compressed with hdf5plugin's filters (Blosc with each of its compressors and shuffles,
# LZ4) and prints what they hold as JSON, in h5py_gen.py's format. Usage: h5plugin_gen.py OUTDIR
import hashlib, json, sys
import numpy as np
import h5py
import hdf5plugin

out = sys.argv[1]
rng = np.random.default_rng(23)
expect = []


def record(fname, path, a):
    a = np.asarray(a)
    kind = "int" if a.dtype.kind in "biu" else "float"
    b = np.ascontiguousarray(a.astype("<i8" if kind == "int" else "<f8")).tobytes()
    expect.append({"file": fname, "path": path, "shape": list(a.shape), "kind": kind, "sha": hashlib.sha256(b).hexdigest()})


n = 100_003  # chunks of 30,000 leave a short last chunk; Blosc blocks leave a leftover
t = np.cumsum(rng.integers(0, 50, n)).astype("<u4")
x = rng.integers(0, 640, n).astype("<u2")
p = rng.integers(0, 2, n).astype("u1")
f2 = rng.random(n).astype("<f2")
i8 = np.cumsum(rng.integers(-5, 50, n)).astype("<i8")
with h5py.File(f"{out}/plugins.h5", "w") as f:
    for cname in ["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"]:
        for sh, shname in [(hdf5plugin.Blosc.NOSHUFFLE, "noshuffle"), (hdf5plugin.Blosc.SHUFFLE, "shuffle"), (hdf5plugin.Blosc.BITSHUFFLE, "bitshuffle")]:
            for name, a in [("t", t), ("x", x), ("p", p), ("f2", f2), ("i8", i8)]:
                path = f"blosc/{cname}/{shname}/{name}"
                f.create_dataset(path, data=a, chunks=(30000,), **hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=sh))
                record("plugins.h5", "/" + path, a)
    for name, a in [("t", t), ("x", x), ("i8", i8)]:
        f.create_dataset("lz4/" + name, data=a, chunks=(30000,), **hdf5plugin.LZ4())
        record("plugins.h5", "/lz4/" + name, a)
    # DSEC's layout and compression (Blosc with zstd, byte shuffle)
    g = f.create_group("dsec/events")
    for name, a in [("t", t), ("x", x), ("y", x % 480), ("p", p)]:
        g.create_dataset(name, data=a, chunks=(40000,), maxshape=(None,), **hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.SHUFFLE))
json.dump(expect, sys.stdout)
