# Writes the seed corpus of FuzzFile (testdata/fuzz/FuzzFile): small h5py files, one per structure the
# reader parses, in Go's corpus encoding. Rerun by hand when the reader learns new structures:
#   /usr/bin/python3 testdata/fuzzseeds_gen.py testdata/fuzz/FuzzFile
import io, os, sys
import numpy as np
import h5py
import hdf5plugin

out = sys.argv[1]


def save(name, build, **kw):
    bio = io.BytesIO()
    with h5py.File(bio, "w", **kw) as f:
        build(f)
    data = bio.getvalue()
    with open(os.path.join(out, name), "w") as fh:
        fh.write("go test fuzz v1\n[]byte(" + repr_go(data) + ")\nuint8(0)\n")
    print(name, len(data))


def repr_go(b):
    return '"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '"'


def contiguous(f):
    f["events/t"] = np.arange(20, dtype="<i8")
    f["events/x"] = np.arange(20, dtype="<u2")
    f.attrs["title"] = "seed"


def chunked(f):
    f.create_dataset("c", data=np.arange(64, dtype="<i4"), chunks=(16,), compression="gzip", shuffle=True, fletcher32=True)


def vlen(f):
    d = f.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(np.dtype("f2")))
    for i in range(3):
        d[i] = np.arange(i + 1, dtype="f2")
    f["labels"] = np.array([0, 1, 0], dtype="u1")
    f["extra/keys"] = np.array([b"a", b"b"])


def latest(f):
    f.create_dataset("ea", data=np.arange(40, dtype="u1"), chunks=(8,), maxshape=(None,))
    f.create_dataset("fa", data=np.arange(40, dtype="u1"), chunks=(8,))
    f.create_dataset("bt2", data=np.arange(16, dtype="u1").reshape(4, 4), chunks=(2, 2), maxshape=(None, None))
    g = f.create_group("dense")
    for i in range(10):
        g[f"d{i}"] = np.int8(i)
    for i in range(10):
        g.attrs[f"a{i}"] = i


def compound(f):
    c = np.zeros(4, dtype=[("t", "<i8"), ("x", "<u2"), ("p", "i1")])
    f["CD/events"] = c
    f["soft"] = h5py.SoftLink("/CD/events")
    f["s"] = np.array([b"abc", b"de"], dtype="S4")


def plugins(f):
    a = (np.arange(300) * 7 % 251).astype("<u2")
    f.create_dataset("blz", data=a, chunks=(150,), **hdf5plugin.Blosc(cname="blosclz", shuffle=hdf5plugin.Blosc.SHUFFLE))
    f.create_dataset("bzs", data=a, chunks=(150,), **hdf5plugin.Blosc(cname="zstd", shuffle=hdf5plugin.Blosc.BITSHUFFLE))
    f.create_dataset("lz4", data=a, chunks=(150,), **hdf5plugin.LZ4())


save("contiguous", contiguous)
save("plugins", plugins)
save("chunked", chunked)
save("vlen", vlen)
save("latest", latest, libver="latest")
save("compound", compound)
save("userblock", contiguous, userblock_size=512)
