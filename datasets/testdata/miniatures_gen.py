# Writes miniatures of the container datasets in their real layouts, with h5py, scipy and numpy (the
# writers their authors used), and prints, per dataset and split, the samples evtool must prepare from
# them: id, label and a digest of the events (t, x, y, p as int64) in order. Usage: miniatures_gen.py OUTDIR
import hashlib, json, os, sys
import numpy as np
import h5py
import hdf5plugin
import scipy.io as sio

out = sys.argv[1]
rng = np.random.default_rng(11)
expect = {}


def digest(t, x, y, p):
    a = np.stack([np.asarray(t, dtype=np.int64), np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64),
                  np.asarray(p, dtype=np.int64)], axis=1)
    return {"n": int(len(a)), "sha": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}


def us(seconds):
    # evtool rounds to the nearest µs, halves away from zero (all times here are positive)
    return np.floor(np.asarray(seconds, dtype=np.float64) * 1e6 + 0.5).astype(np.int64)


def mkdir(*parts):
    p = os.path.join(out, *parts)
    os.makedirs(p, exist_ok=True)
    return p


# SHD and SSC: vlen float16 seconds and uint16 units, labels, extra/keys, extra/speaker, extra/meta_info
def heidelberg(root, files, keys):
    d = mkdir(root)
    for split, (name, n) in files.items():
        times = [np.sort(rng.random(int(m))).astype("f2") for m in rng.integers(0, 300, n)]
        units = [rng.integers(0, 700, len(a)).astype("<u2") for a in times]
        labels = rng.integers(0, len(keys), n).astype("<u2")
        with h5py.File(os.path.join(d, name), "w") as f:
            ds = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype("f2")))
            du = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype("<u2")))
            for i in range(n):
                ds[i], du[i] = times[i], units[i]
            f["labels"] = labels
            f["extra/keys"] = np.array([k.encode() for k in keys])
            f["extra/speaker"] = rng.integers(0, 12, n).astype("<u2")
            f["extra/meta_info/gender"] = np.array([b"female", b"male"] * (n // 2) + [b"male"] * (n % 2))
        expect[f"{root}/{split}"] = [dict(id=f"{name}/{i}", label=int(labels[i]),
                                          **digest(us(times[i]), units[i], np.zeros(len(times[i])), np.ones(len(times[i]))))
                                     for i in range(n)]
    expect[root + "/classes"] = keys


shd_keys = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"]
heidelberg("shd", {"train": ("shd_train.h5", 30), "test": ("shd_test.h5", 11)}, shd_keys)
ssc_keys = ["backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go",
            "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven",
            "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero"]
heidelberg("ssc", {"train": ("ssc_train.h5", 20), "valid": ("ssc_valid.h5", 7), "test": ("ssc_test.h5", 9)}, ssc_keys)

# N-TIDIGITS18: one file; <split>_labels lists utterances, <split>_addresses/<name> and
# <split>_timestamps/<name> hold each one's channels and times (s)
d = mkdir("ntidigits")
with h5py.File(os.path.join(d, "n-tidigits.hdf5"), "w") as f:
    for split in ["train", "test"]:
        names = []
        for i in range(40):
            digits = "".join(rng.choice(list("o123456789z"), size=1 if i % 3 else int(rng.integers(2, 7))))
            names.append(f"{'man' if i % 2 else 'woman'}-s{i:02d}-{digits}")
        f[f"{split}_labels"] = np.array([n.encode() for n in names], dtype="S24")
        samples, all_samples = [], []
        for n in names:
            m = int(rng.integers(1, 500))
            t_us = np.sort(rng.integers(0, 2_000_000, m))
            x = rng.integers(0, 64, m)
            f[f"{split}_addresses/{n}"] = x.astype("<u2")
            f[f"{split}_timestamps/{n}"] = (t_us / 1e6).astype("<f8")
            dg = digest(us(t_us / 1e6), x, np.zeros(m), np.ones(m))
            digits = n.rsplit("-", 1)[1]
            all_samples.append(dict(id=n, label=-1, **dg))
            if len(digits) == 1:
                samples.append(dict(id=n, label="o123456789z".index(digits), **dg))
        expect[f"ntidigits/{split}"] = samples
        expect[f"ntidigits/{split}-sequences"] = all_samples

# ASL-DVS: <letter>/<letter>_NNNN.mat with ts, x, y, pol column vectors (doubles), y counted from the bottom
base = mkdir("asldvs")
samples = []
for letter in ["a", "b", "y"]:
    for k in range(1, 4):
        m = int(rng.integers(10, 2000))
        ts = np.sort(rng.integers(0, 10**6, m)).astype(np.float64)
        x, y, pol = rng.integers(0, 240, m), rng.integers(0, 180, m), rng.integers(0, 2, m)
        mkdir("asldvs", letter)
        sio.savemat(os.path.join(base, letter, f"{letter}_{k:04d}.mat"),
                    {"ts": ts.reshape(-1, 1), "x": x.reshape(-1, 1).astype(np.float64), "y": y.reshape(-1, 1).astype(np.float64),
                     "pol": pol.reshape(-1, 1).astype(np.float64)}, do_compression=True)
        samples.append(dict(id=f"{letter}/{letter}_{k:04d}.mat", label="abcdefghiklmnopqrstuvwxy".index(letter),
                            **digest(ts, x, 179 - y, pol)))
expect["asldvs/all"] = samples

# ST-MNIST: <digit>/<file>.mat holding spiketrain (101 × N doubles); a lookup-table file to skip
base = mkdir("stmnist", "data_submission")
samples = []
for digit in ["0", "3", "9"]:
    mkdir("stmnist", "data_submission", digit)
    for k in range(2):
        n = int(rng.integers(5, 300))
        st = np.zeros((101, n))
        st[100] = np.sort(rng.random(n)) * 2
        taxel = rng.integers(0, 100, n)
        pol = rng.choice([-1.0, 1.0], n)
        st[taxel, np.arange(n)] = pol
        name = f"{digit}_{k}.mat"
        sio.savemat(os.path.join(base, digit, name), {"spiketrain": st})
        samples.append(dict(id=f"data_submission/{digit}/{name}", label=int(digit),
                            **digest(us(st[100]), taxel % 10, taxel // 10, (pol > 0).astype(int))))
sio.savemat(os.path.join(base, "LUT_taxels.mat"), {"LUT": np.arange(100.0).reshape(10, 10)})
expect["stmnist/all"] = samples

# ThreeET: ThreeET_Eyetracking/{train,val}_files.txt, data/<name>.h5 ((N, 4) events), labels/<name>.txt
root = mkdir("threeet", "ThreeET_Eyetracking")
mkdir("threeet", "ThreeET_Eyetracking", "data")
mkdir("threeet", "ThreeET_Eyetracking", "labels")
for split, names in [("train", ["user1_session_1", "user2_session_2"]), ("val", ["user3_session_1"])]:
    with open(os.path.join(root, f"{split}_files.txt"), "w") as fh:
        fh.write("\n".join(names) + "\n")
    samples, notes = [], []
    for n in names:
        m = int(rng.integers(100, 3000))
        ev = np.stack([np.sort(rng.integers(0, 5_000_000, m)), rng.integers(0, 240, m), rng.integers(0, 180, m), rng.integers(0, 2, m)], axis=1)
        with h5py.File(os.path.join(root, "data", n + ".h5"), "w") as f:
            f.create_dataset("events", data=ev.astype("<i8"), chunks=(min(m, 1024), 4), compression="gzip")
        lab = np.stack([rng.integers(0, 240, 20), rng.integers(0, 180, 20), rng.integers(0, 2, 20)], axis=1)
        with open(os.path.join(root, "labels", n + ".txt"), "w") as fh:
            for row in lab:
                fh.write(" ".join(str(v) for v in row) + "\n")
        samples.append(dict(id=n, label=-1, **digest(ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3])))
        notes.append([[str(j)] + [str(v) for v in row] for j, row in enumerate(lab)])
    expect[f"threeet/{split}"] = samples
    expect[f"threeet/{split}/notes"] = notes

# EBSSA: a MATLAB 7.3 file (HDF5 after a 512-byte user block): a group per recording with TD and Obj
# structs of (1, N) doubles, pixels counted from 1
d = mkdir("ebssa")
p = os.path.join(d, "labelled_ebssa.h5")
samples, notes = [], []
with h5py.File(p, "w", userblock_size=512) as f:
    for name in ["rec_b_atis", "rec_a_davis", "rec_c_unlabelled"]:
        g = f.create_group(name)
        g.attrs["MATLAB_class"] = np.bytes_("struct")
        w, h = (304, 240) if "atis" in name else (240, 180)
        m = int(rng.integers(100, 4000))
        ts = np.sort(rng.integers(10**9, 10**9 + 10**7, m)).astype(np.float64)
        x, y, pol = rng.integers(1, w + 1, m), rng.integers(1, h + 1, m), rng.integers(0, 2, m)
        td = g.create_group("TD")
        td.attrs["MATLAB_class"] = np.bytes_("struct")
        for k, v in [("ts", ts), ("x", x), ("y", y), ("p", pol)]:
            ds = td.create_dataset(k, data=np.asarray(v, dtype=np.float64).reshape(1, -1))
            ds.attrs["MATLAB_class"] = np.bytes_("double")
        rows = []
        if "unlabelled" not in name:
            k = 15
            ot = np.sort(rng.choice(ts, k))
            ox, oy, oid = rng.integers(1, w + 1, k), rng.integers(1, h + 1, k), rng.integers(1, 3, k)
            ob = g.create_group("Obj")
            for kk, v in [("ts", ot), ("x", ox), ("y", oy), ("id", oid)]:
                ob.create_dataset(kk, data=np.asarray(v, dtype=np.float64).reshape(1, -1))
            rows = [[str(int(ot[j])), str(int(ox[j] - 1)), str(int(oy[j] - 1)), str(int(oid[j]))] for j in range(k)]
        samples.append((name, dict(id=name, label=-1, **digest(ts, x - 1, y - 1, pol)), rows))
with open(p, "r+b") as fh:
    fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 HDF5 schema 1.00 .".ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
samples.sort(key=lambda s: s[0])
expect["ebssa/all"] = [s[1] for s in samples]
expect["ebssa/all/notes"] = [s[2] for s in samples]
expect["ebssa/extent"] = [304, 240]

# DSEC: the 12 test recordings as <recording>/events_left/events.h5 (events/{x,y,p,t}, t_offset, ms_to_idx)
tests = ["interlaken_00_a", "interlaken_00_b", "interlaken_01_a", "thun_01_a", "thun_01_b", "zurich_city_12_a",
         "zurich_city_13_a", "zurich_city_13_b", "zurich_city_14_a", "zurich_city_14_b", "zurich_city_14_c", "zurich_city_15_a"]
samples = []
window = 100_000
for r, name in enumerate(tests):
    d = mkdir("dsec", name, "events_left")
    m = int(rng.integers(500, 5000))
    t = np.sort(rng.integers(0, 350_000, m)).astype(np.int64)
    x, y, pol = rng.integers(0, 640, m), rng.integers(0, 480, m), rng.integers(0, 2, m)
    off = 1_500_000_000_000 + r * 10**8
    with h5py.File(os.path.join(d, "events.h5"), "w") as f:
        # compressed as DSEC's files are: the Blosc plug-in with zstd and byte shuffle
        for k, v, dt in [("x", x, "<u2"), ("y", y, "<u2"), ("p", pol, "u1"), ("t", t, "<u4")]:
            f.create_dataset("events/" + k, data=v.astype(dt), chunks=(256,), maxshape=(None,),
                             **hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.SHUFFLE))
        f["t_offset"] = np.int64(off)
        f["ms_to_idx"] = np.searchsorted(t, np.arange(0, t[-1] // 1000 + 1) * 1000).astype("<u8")
    first = t[0] + off
    k = 0
    while first + k * window <= t[-1] + off:
        lo, hi = first + k * window, first + (k + 1) * window
        sel = (t + off >= lo) & (t + off < hi)
        samples.append(dict(id=f"{name}@{lo}", label=-1, **digest(t[sel] + off, x[sel], y[sel], pol[sel])))
        k += 1
expect["dsec/test"] = samples

# a DSEC tree compressed with a filter evtool refuses (lzf)
for name in tests:
    d = mkdir("dsec_lzf", name, "events_left")
    with h5py.File(os.path.join(d, "events.h5"), "w") as f:
        for k in ["x", "y", "p", "t"]:
            f.create_dataset("events/" + k, data=np.arange(100, dtype="<u2"), chunks=(64,), compression="lzf")
        f["t_offset"] = np.int64(0)

# DVS-Lip: DVS-Lip/{train,test}/<word>/<n>.npy structured arrays (t, x, y, p)
words = ["accused", "action", "young"]
for split in ["train", "test"]:
    samples = []
    for w in words:
        d = mkdir("dvslip", "DVS-Lip", split, w)
        for k in range(2):
            m = int(rng.integers(10, 800))
            a = np.zeros(m, dtype=[("t", "<i4"), ("x", "i1"), ("y", "i1"), ("p", "i1")])
            a["t"], a["x"], a["y"], a["p"] = np.sort(rng.integers(0, 10**6, m)), rng.integers(0, 128, m), rng.integers(0, 128, m), rng.integers(0, 2, m)
            np.save(os.path.join(d, f"{k}.npy"), a)
            label = ["accused", "action"].index(w) if w != "young" else 99
            samples.append(dict(id=f"DVS-Lip/{split}/{w}/{k}.npy", label=label, **digest(a["t"], a["x"], a["y"], a["p"])))
    samples.sort(key=lambda s: s["id"])
    expect[f"dvslip/{split}"] = samples
json.dump(expect, sys.stdout)
