// Writes Arrow IPC files with nodejs-polars (polars' own Rust Arrow writer), so that formats/evarrow's tests
// check that evtool reads what polars users save: columns in polars' order (x, y, t, p, not evtool's), no
// evtool metadata, string views and polars' list types. The values follow formulas the Go test recomputes:
//   recording, event i of 0..9999: x = i mod 34, y = 7 i mod 34, t = 37 i, p = i mod 2
//   dataset, sample s of 0..19 with 3 s events, id "s<s>", label s mod 10,
//   event j: x = (5 j + s) mod 34, y = 3 j mod 34, t = 1000 s + 13 j, p = (j + s) mod 2
//
// usage: node write.js OUT-recording.arrow OUT-dataset.arrow
const pl = require("nodejs-polars");

const [recording, dataset] = process.argv.slice(2);
if (!recording || !dataset) {
  console.error("usage: node write.js OUT-recording.arrow OUT-dataset.arrow");
  process.exit(2);
}
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const n = 10000;
pl.DataFrame([
  pl.Series("x", range(n, (i) => i % 34), pl.UInt16),
  pl.Series("y", range(n, (i) => (7 * i) % 34), pl.UInt16),
  pl.Series("t", range(n, (i) => 37 * i), pl.Int64),
  pl.Series("p", range(n, (i) => i % 2), pl.UInt8),
]).writeIPC(recording);

const samples = 20;
const ev = (s, f) => range(3 * s, (j) => f(j));
pl.DataFrame([
  pl.Series("x", range(samples, (s) => ev(s, (j) => (5 * j + s) % 34)), pl.List(pl.UInt16)),
  pl.Series("y", range(samples, (s) => ev(s, (j) => (3 * j) % 34)), pl.List(pl.UInt16)),
  pl.Series("t", range(samples, (s) => ev(s, (j) => 1000 * s + 13 * j)), pl.List(pl.Int64)),
  pl.Series("p", range(samples, (s) => ev(s, (j) => (j + s) % 2)), pl.List(pl.UInt8)),
  pl.Series("id", range(samples, (s) => "s" + s)),
  pl.Series("label", range(samples, (s) => s % 10), pl.Int32),
]).writeIPC(dataset);
