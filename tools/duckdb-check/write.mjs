// Writes Parquet files with DuckDB in evtool's two layouts, so that formats/parquet's tests can check that
// evtool reads files another writer made (DuckDB's own list structure, nullability and encodings). The
// values follow formulas the Go test recomputes:
//   recording, event i of 0..299999: t = 37 i, x = i mod 34, y = 7 i mod 34, p = i mod 2
//   dataset, sample s of 0..49 with 7 s events (sample 0: none), label s mod 10 (null for s = 3), id "s<s>",
//   event j: t = 1000000 s + 13 j, x = (5 j + s) mod 34, y = 3 j mod 34, p = (j + s) mod 2
//
// usage: node write.mjs OUT-recording.parquet OUT-dataset.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const [recording, dataset] = process.argv.slice(2);
if (!recording || !dataset) {
  console.error('usage: node write.mjs OUT-recording.parquet OUT-dataset.parquet');
  process.exit(2);
}
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";
const kv = (kind) => `KV_METADATA {'evtool.kind': '${kind}', 'evtool.width': '34', 'evtool.height': '34',
  'evtool.time_unit': 'us', 'evtool.source': 'duckdb'${kind === 'dataset' ? ", 'evtool.classes': '[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]'" : ''}}`;
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run(`COPY (SELECT (37 * i)::BIGINT AS t, (i % 34)::USMALLINT AS x, ((7 * i) % 34)::USMALLINT AS y,
    (i % 2)::UTINYINT AS p FROM range(300000) r(i) ORDER BY i)
  TO ${lit(recording)} (FORMAT parquet, ${kv('recording')})`);
await conn.run(`COPY (SELECT CASE WHEN s = 3 THEN NULL ELSE (s % 10)::INTEGER END AS label, 's' || s AS id,
    [(1000000 * s + 13 * j)::BIGINT FOR j IN range(7 * s)] AS t,
    [((5 * j + s) % 34)::USMALLINT FOR j IN range(7 * s)] AS x,
    [((3 * j) % 34)::USMALLINT FOR j IN range(7 * s)] AS y,
    [((j + s) % 2)::UTINYINT FOR j IN range(7 * s)] AS p
  FROM range(50) r(s) ORDER BY s)
  TO ${lit(dataset)} (FORMAT parquet, ${kv('dataset')})`);
