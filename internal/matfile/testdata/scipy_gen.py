# Writes .mat files with scipy.io.savemat (versions 4 and 5, compressed or not) and MATLAB 7.3-style
# files with h5py, and prints their contents as JSON for the Go test. Usage: scipy_gen.py OUTDIR
import json, sys
import numpy as np
import scipy.io as sio
import h5py

out = sys.argv[1]
rng = np.random.default_rng(7)
expect = {}

ts = np.cumsum(rng.integers(1, 500, 300)).astype(np.float64)
x = rng.integers(0, 240, 300).astype(np.float64)
y = rng.integers(0, 180, 300).astype(np.float64)
pol = rng.integers(0, 2, 300).astype(np.float64)
ints = {k: (rng.integers(-100, 100, (3, 4)) if k[0] == "i" else rng.integers(0, 200, (3, 4))).astype(k)
        for k in ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]}
single = rng.standard_normal((2, 5)).astype(np.float32)
logical = rng.integers(0, 2, (1, 6)).astype(bool)
cell = np.empty((1, 3), dtype=object)
cell[0, 0], cell[0, 1], cell[0, 2] = np.array([[1.5, 2.5]]), "text", np.array([[7]], dtype=np.int16)
st = {"ts": ts[:10].reshape(-1, 1), "name": "asl", "inner": {"k": np.array([[3.0]])}}
big = np.arange(100000, dtype=np.float64) * 0.5  # compresses to far less than it inflates to

variables = {"ts": ts.reshape(-1, 1), "x": x.reshape(-1, 1), "y": y.reshape(-1, 1), "pol": pol.reshape(-1, 1),
             "single": single, "logical": logical, "label": "a", "cell": cell, "st": st, "big": big.reshape(1, -1),
             "empty": np.zeros((0, 0)), "matrix": np.arange(12, dtype=np.float64).reshape(3, 4), **ints}

def colmajor(a):
    return np.asarray(a).flatten(order="F").tolist()

def describe():
    d = {"ts": colmajor(ts), "x": colmajor(x), "pol": colmajor(pol), "single": colmajor(single.astype(np.float64)),
         "logical": [int(v) for v in colmajor(logical)], "matrix": colmajor(np.arange(12).reshape(3, 4)),
         "big_sum": float(big.sum())}
    for k, a in ints.items():
        d[k] = [int(v) for v in colmajor(a)]
    return d

for name, kw in [("v5.mat", {}), ("v5z.mat", {"do_compression": True})]:
    sio.savemat(f"{out}/{name}", variables, **kw)
# version 4 holds only numeric and text matrices
sio.savemat(f"{out}/v4.mat", {"ts": ts.reshape(-1, 1), "x": x.reshape(-1, 1), "matrix": np.arange(12, dtype=np.float64).reshape(3, 4),
                               "label": "hello"}, format="4")
expect["values"] = describe()

# A MATLAB 7.3 layout: HDF5 after a 512-byte user block holding MATLAB's header; dimensions reversed,
# MATLAB_class attributes, a struct as a group, a cell as references into #refs#.
p = f"{out}/v73.mat"
with h5py.File(p, "w", userblock_size=512, libver="earliest") as f:
    def put(g, name, a, cls):
        a = np.asarray(a)
        dset = g.create_dataset(name, data=a.T, compression="gzip" if a.size > 50 else None)
        dset.attrs["MATLAB_class"] = np.bytes_(cls)
        return dset
    put(f, "ts", ts.reshape(-1, 1), "double")
    put(f, "x", x.reshape(-1, 1).astype(np.uint16), "uint16")
    put(f, "matrix", np.arange(12, dtype=np.float64).reshape(3, 4), "double")
    put(f, "label", np.frombuffer("asl".encode("utf-16-le"), dtype="<u2").reshape(1, -1), "char")
    g = f.create_group("st")
    g.attrs["MATLAB_class"] = np.bytes_("struct")
    put(g, "ts", ts[:10].reshape(-1, 1), "double")
    td = g.create_group("TD")
    td.attrs["MATLAB_class"] = np.bytes_("struct")
    put(td, "p", pol[:10].reshape(-1, 1), "double")
    refs = f.create_group("#refs#")
    r1 = put(refs, "a", np.array([[1.5, 2.5]]), "double")
    r2 = put(refs, "b", np.array([[7]], dtype=np.int16), "int16")
    c = f.create_dataset("cell", (2, 1), dtype=h5py.ref_dtype)
    c[0, 0], c[1, 0] = r1.ref, r2.ref
    c.attrs["MATLAB_class"] = np.bytes_("cell")
    e = f.create_dataset("empty", data=np.array([0, 0], dtype=np.uint64))
    e.attrs["MATLAB_class"] = np.bytes_("double")
    e.attrs["MATLAB_empty"] = np.uint8(1)
with open(p, "r+b") as fh:
    hdr = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 HDF5 schema 1.00 ."
    fh.write(hdr.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM")
json.dump(expect, sys.stdout)
