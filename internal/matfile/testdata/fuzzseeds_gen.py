# Writes the seed corpus of FuzzFile (testdata/fuzz/FuzzFile): small .mat files from scipy (versions 4
# and 5, compressed or not, every array class evtool decodes), in Go's corpus encoding. Rerun by hand:
#   /usr/bin/python3 testdata/fuzzseeds_gen.py testdata/fuzz/FuzzFile
import io, os, sys
import numpy as np
import scipy.io as sio

out = sys.argv[1]


def go(b):
    return '"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '"'


def save(name, variables, **kw):
    bio = io.BytesIO()
    sio.savemat(bio, variables, **kw)
    data = bio.getvalue()
    with open(os.path.join(out, name), "w") as fh:
        fh.write("go test fuzz v1\n[]byte(" + go(data) + ")\n")
    print(name, len(data))


cell = np.empty((1, 2), dtype=object)
cell[0, 0], cell[0, 1] = np.array([[1.5]]), "ab"
events = {"ts": np.arange(6.0).reshape(-1, 1), "x": np.arange(6, dtype=np.uint16).reshape(-1, 1),
          "y": np.zeros((6, 1), dtype=np.int8), "pol": np.array([[1], [0], [1], [1], [0], [1]], dtype=bool)}
save("v5", {**events, "c": cell, "s": {"f": np.array([[2.0]]), "g": "t"}})
save("v5z", events, do_compression=True)
save("v4", {"ts": np.arange(4.0).reshape(-1, 1), "name": "ab"}, format="4")
st = np.zeros((101, 3))
st[5, 0], st[7, 1], st[99, 2] = 1, -1, 1
st[100] = [0.1, 0.2, 0.3]
save("stmnist", {"spiketrain": st}, do_compression=True)

# a MATLAB 7.3 layout (HDF5 after a 512-byte header) written with h5py
import h5py
bio = io.BytesIO()
with h5py.File(bio, "w", userblock_size=512) as f:
    d = f.create_dataset("ts", data=np.arange(4.0).reshape(1, -1))
    d.attrs["MATLAB_class"] = np.bytes_("double")
    g = f.create_group("TD")
    g.attrs["MATLAB_class"] = np.bytes_("struct")
    e = g.create_dataset("p", data=np.array([[1, 0]], dtype=np.uint8))
    e.attrs["MATLAB_class"] = np.bytes_("logical")
data = bytearray(bio.getvalue())
data[:128] = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116) + b"\x00" * 8 + b"\x00\x02IM"
with open(os.path.join(out, "v73"), "w") as fh:
    fh.write("go test fuzz v1\n[]byte(" + go(bytes(data)) + ")\n")
print("v73", len(data))
