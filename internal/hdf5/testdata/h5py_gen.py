# Writes HDF5 files with h5py (an independent writer: libhdf5) covering every storage layout, chunk index,
# filter and datatype evtool's reader supports, and prints what they hold as JSON for the Go test.
# Usage: h5py_gen.py OUTDIR
import hashlib, json, sys
import numpy as np
import h5py

out = sys.argv[1]
rng = np.random.default_rng(19)
expect = []


def digest(a):
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        b = np.ascontiguousarray(a.astype("<i8")).tobytes()
        kind = "int"
    else:
        b = np.ascontiguousarray(a.astype("<f8")).tobytes()
        kind = "float"
    return kind, hashlib.sha256(b).hexdigest()


def record(fname, path, a, **extra):
    a = np.asarray(a)
    e = {"file": fname, "path": path, "shape": list(a.shape), **extra}
    if a.dtype.names:
        e["members"] = {n: dict(zip(("kind", "sha"), digest(a[n]))) for n in a.dtype.names}
    elif a.dtype.kind in "SU":
        e["strings"] = [s.decode() if isinstance(s, bytes) else s for s in a.reshape(-1).tolist()]
    elif a.dtype.kind == "O":
        e["strings"] = [s.decode() if isinstance(s, bytes) else s for s in a.reshape(-1).tolist()]
    else:
        e["kind"], e["sha"] = digest(a)
    expect.append(e)


def vlen_record(fname, path, arrs):
    lens = [len(x) for x in arrs]
    cat = np.concatenate([np.asarray(x, dtype="<f8") for x in arrs]) if arrs else np.zeros(0)
    expect.append({"file": fname, "path": path, "vlen": True, "lens": lens,
                   "sha": hashlib.sha256(np.ascontiguousarray(cat).tobytes()).hexdigest()})


def dtypes_file(fname, libver, userblock=0):
    kw = {"libver": libver}
    if userblock:
        kw["userblock_size"] = userblock
    with h5py.File(f"{out}/{fname}", "w", **kw) as f:
        for dt in ["i1", "u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", "<i8", ">i8", "<u8",
                   "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]:
            if dt[-2] in "iu" or dt in ("i1", "u1"):
                info = np.iinfo(np.dtype(dt))
                a = rng.integers(max(info.min, -(2**62)), min(info.max, 2**62), size=37, endpoint=True).astype(dt)
                a[0], a[1] = max(info.min, -(2**62)), min(info.max, 2**62)
            else:
                a = (rng.standard_normal(37) * 100).astype(dt)
                a[0] = np.inf
            name = "num/" + dt.replace("<", "le_").replace(">", "be_")
            f.create_dataset(name, data=a)
            record(fname, "/" + name, a)
        b = rng.integers(0, 2, 20).astype(bool)
        f["bool"] = b
        record(fname, "/bool", b)
        s = np.array([b"alpha", b"be", b"", b"gamma-long"], dtype="S10")
        f["fixed_strings"] = s
        record(fname, "/fixed_strings", s)
        vs = np.array(["x", "yz", "utf8 é", ""], dtype=object)
        f.create_dataset("vlen_strings", data=vs, dtype=h5py.string_dtype())
        record(fname, "/vlen_strings", vs)
        comp = np.zeros(50, dtype=[("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "u1"), ("f", "<f4")])
        comp["t"] = np.cumsum(rng.integers(0, 1000, 50))
        comp["x"], comp["y"] = rng.integers(0, 640, 50), rng.integers(0, 480, 50)
        comp["p"], comp["f"] = rng.integers(0, 2, 50), rng.standard_normal(50)
        f["compound"] = comp
        record(fname, "/compound", comp)
        m = rng.integers(-1000, 1000, size=(7, 5, 3)).astype("<i4")
        f["nd"] = m
        record(fname, "/nd", m)
        f["scalar"] = np.float64(3.25)
        record(fname, "/scalar", np.array(3.25))
        f.attrs["title"] = "evtool"
        f.attrs["fixed"] = np.bytes_(b"fixed attr")
        f.attrs["numbers"] = np.arange(5, dtype="<i2")
        f.attrs["pi"] = np.float32(3.5)
        expect.append({"file": fname, "path": "/", "attrs": {"title": "evtool", "fixed": "fixed attr"},
                       "attr_numbers": {"numbers": [0, 1, 2, 3, 4], "pi": [3.5]}})


def layouts_file(fname, libver):
    with h5py.File(f"{out}/{fname}", "w", libver=libver) as f:
        n = 10007
        t = np.cumsum(rng.integers(0, 50, n)).astype("<i8")
        f.create_dataset("contiguous", data=t)
        record(fname, "/contiguous", t)
        for name, kw in [("chunked", dict(chunks=(1000,))),
                         ("gzip", dict(chunks=(999,), compression="gzip", compression_opts=6)),
                         ("shuffle_gzip", dict(chunks=(512,), shuffle=True, compression="gzip")),
                         ("fletcher", dict(chunks=(700,), fletcher32=True)),
                         ("all_filters", dict(chunks=(333,), shuffle=True, compression="gzip", fletcher32=True)),
                         ("unlimited", dict(chunks=(1000,), maxshape=(None,))),
                         ("unlimited_gzip", dict(chunks=(257,), maxshape=(None,), compression="gzip", shuffle=True)),
                         ("single", dict(chunks=(n,))),
                         ("single_gzip", dict(chunks=(n,), compression="gzip")),
                         ("maxshape_larger", dict(chunks=(1000,), maxshape=(20000,)))]:
            f.create_dataset(name, data=t, **kw)
            record(fname, "/" + name, t)
        # 2-D, unlimited in both dimensions (version 2 B-tree index with libver latest)
        m = rng.integers(0, 65535, size=(301, 7)).astype("<u2")
        f.create_dataset("two_unlimited", data=m, chunks=(32, 3), maxshape=(None, None))
        record(fname, "/two_unlimited", m)
        f.create_dataset("two_unlimited_gzip", data=m, chunks=(50, 4), maxshape=(None, None), compression="gzip")
        record(fname, "/two_unlimited_gzip", m)
        f.create_dataset("nd_chunked", data=m, chunks=(17, 5), compression="gzip")
        record(fname, "/nd_chunked", m)
        ev = np.stack([t[:5000], rng.integers(0, 240, 5000), rng.integers(0, 180, 5000), rng.integers(0, 2, 5000)], axis=1)
        f.create_dataset("events_nx4", data=ev, chunks=(1000, 4), maxshape=(None, 4), compression="gzip")
        record(fname, "/events_nx4", ev)
        # columns unlimited in the second dimension only (the unlimited dimension is not the first)
        f.create_dataset("unlim_second", data=m.T.copy(), chunks=(3, 40), maxshape=(7, None))
        record(fname, "/unlim_second", m.T)
        # missing chunks read as the fill value
        d = f.create_dataset("sparse", shape=(100,), chunks=(10,), dtype="<i4", fillvalue=7)
        d[0:10] = np.arange(10)
        d[55:60] = np.arange(5) + 100
        record(fname, "/sparse", d[()], missing=True)
        # many chunks: a paged fixed array (libver latest), a deep version 1 B-tree (earliest)
        many = rng.integers(0, 255, 5000).astype("u1")
        f.create_dataset("many_chunks", data=many, chunks=(4,))
        record(fname, "/many_chunks", many)
        # vlen sequences, chunked with gzip and contiguous: SHD's layout
        arrs = [rng.random(int(k)).astype("f2") for k in rng.integers(0, 300, 64)]
        vt = h5py.vlen_dtype(np.dtype("f2"))
        ds = f.create_dataset("vlen_f2", (len(arrs),), dtype=vt)
        for i, a in enumerate(arrs):
            ds[i] = a
        vlen_record(fname, "/vlen_f2", arrs)
        units = [rng.integers(0, 700, len(a)).astype("<u2") for a in arrs]
        ds = f.create_dataset("vlen_u2_gzip", (len(units),), dtype=h5py.vlen_dtype(np.dtype("<u2")), chunks=(10,), compression="gzip")
        for i, a in enumerate(units):
            ds[i] = a
        vlen_record(fname, "/vlen_u2_gzip", units)
        # vlen sequences over more than the 1 MiB of collections kept (their memory is reused), one
        # collection bigger than any before it (read in two parts), in more than one window of references
        lens = [int(k) for k in rng.integers(0, 3000, 300)]
        lens[150] = 60000
        big = [rng.standard_normal(k) for k in lens]
        ds = f.create_dataset("vlen_f8_big", (len(big),), dtype=h5py.vlen_dtype(np.dtype("<f8")))
        for i, a in enumerate(big):
            ds[i] = a
        vlen_record(fname, "/vlen_f8_big", big)


def low_level_file(fname):
    # compact and implicit-index layouts are only reachable through the low-level API
    with h5py.File(f"{out}/{fname}", "w", libver="latest") as f:
        a = np.arange(60, dtype="<i4") * 3 - 50
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        sid = h5py.h5s.create_simple((60,))
        dsid = h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_I32LE, sid, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, a)
        record(fname, "/compact", a)
        b = np.arange(1000, dtype="<i8") ** 2
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((64,))
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        sid = h5py.h5s.create_simple((1000,))
        dsid = h5py.h5d.create(f.id, b"implicit", h5py.h5t.STD_I64LE, sid, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, b)
        record(fname, "/implicit", b)


def groups_file(fname, libver):
    with h5py.File(f"{out}/{fname}", "w", libver=libver) as f:
        g = f.create_group("many")
        names = [f"utt-{i:05d}-{'abc'[i % 3]}" for i in range(2000)]
        for i, nm in enumerate(names):
            g.create_dataset(nm, data=np.array([i, i + 1], dtype="<i4"))
        expect.append({"file": fname, "path": "/many", "links": len(names), "first": names[0], "last": names[-1]})
        record(fname, "/many/" + names[1234], np.array([1234, 1235]))
        f["a/b/c/leaf"] = np.arange(3, dtype="u1")
        record(fname, "/a/b/c/leaf", np.arange(3))
        f["soft"] = h5py.SoftLink("/a/b/c/leaf")
        record(fname, "/soft", np.arange(3))
        d = f["a/b/c/leaf"]
        for i in range(30):
            d.attrs[f"attr{i:02d}"] = i * 10
        expect.append({"file": fname, "path": "/a/b/c/leaf", "attr_numbers": {"attr07": [70], "attr29": [290]}})
        refs = f.create_dataset("refs", (2,), dtype=h5py.ref_dtype)
        refs[0] = f["a/b"].ref
        refs[1] = f["a/b/c/leaf"].ref
        expect.append({"file": fname, "path": "/refs", "refs": ["/a/b", "/a/b/c/leaf"]})


dtypes_file("dtypes_earliest.h5", "earliest")
dtypes_file("dtypes_latest.h5", "latest")
dtypes_file("dtypes_userblock.h5", "earliest", userblock=512)
layouts_file("layouts_earliest.h5", "earliest")
layouts_file("layouts_latest.h5", "latest")
low_level_file("lowlevel.h5")
groups_file("groups_earliest.h5", "earliest")
groups_file("groups_latest.h5", "latest")
# a paged extensible array: more than 131,071 chunks behind one unlimited dimension
with h5py.File(f"{out}/paged_ea.h5", "w", libver="latest") as f:
    big = rng.integers(0, 255, 140000).astype("u1")
    f.create_dataset("ea", data=big, chunks=(1,), maxshape=(None,))
    record("paged_ea.h5", "/ea", big)
json.dump(expect, sys.stdout)
