// Reads evtool Parquet files with DuckDB and prints one JSON object per file: row and event counts, column
// sums, the column types DuckDB sees, the codecs of the column chunks and the evtool.* key-value metadata.
// formats/parquet's tests run it.
//
// usage: node check.mjs FILE.parquet dataset|recording [FILE.parquet dataset|recording ...]
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0 || args.some((a, i) => i % 2 === 1 && a !== 'dataset' && a !== 'recording')) {
  console.error('usage: node check.mjs FILE.parquet dataset|recording [FILE.parquet dataset|recording ...]');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();

async function rows(sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}

for (let i = 0; i < args.length; i += 2) {
  const [path, kind] = [args[i], args[i + 1]];
  const lit = "'" + path.replaceAll("'", "''") + "'";
  const out = {};
  if (kind === 'dataset') {
    [out.counts] = await rows(`SELECT count(*) AS rows, sum(len(t)) AS events, sum(list_sum(x)) AS sum_x,
        sum(list_sum(y)) AS sum_y, sum(list_sum(p)) AS on_events, max(list_max(t)) AS t_max,
        sum(list_sum(t)) AS sum_t, count(label) AS labelled FROM read_parquet(${lit})`);
  } else {
    [out.counts] = await rows(`SELECT count(*) AS rows, count(t) AS events, sum(x) AS sum_x, sum(y) AS sum_y,
        sum(p) AS on_events, max(t) AS t_max, sum(t) AS sum_t FROM read_parquet(${lit})`);
  }
  out.types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM read_parquet(${lit})`))
    .map((r) => [r.column_name, r.column_type]));
  out.codecs = [...new Set((await rows(`SELECT compression FROM parquet_metadata(${lit})`)).map((r) => r.compression))];
  out.metadata = Object.fromEntries((await rows(`SELECT decode(key) AS k, decode(value) AS v
      FROM parquet_kv_metadata(${lit}) WHERE decode(key) LIKE 'evtool.%'`)).map((r) => [r.k, r.v]));
  console.log(JSON.stringify(out));
}
