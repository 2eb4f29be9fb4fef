/**
 * `make reliability`'s last step: the records the fault scenarios wrote under
 * test-artifacts/faults/ become the table in docs/reliability.md (between the fault-table markers).
 */
import path from 'node:path';
import { readPartitionResults, readResults, rewriteTable } from '../test/support/fault-report';

const file = process.argv[2] ?? path.join(__dirname, '../docs/reliability.md');
const results = readResults();
const partitions = readPartitionResults();
if (results.length === 0 && partitions.length === 0) {
  console.error('fault-table: no records in test-artifacts/faults (run the scenarios first)');
  process.exit(1);
}
rewriteTable(file, results, partitions);
console.log(`fault-table: ${results.length + partitions.length} scenarios written to ${file}`);
