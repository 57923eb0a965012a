import { DuckDBInstance } from '@duckdb/node-api';
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const r = await conn.runAndReadAll(process.argv[2]);
for (const row of r.getRowObjectsJson()) console.log(JSON.stringify(row));
