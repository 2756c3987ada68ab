import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../../../support/paths.js';

test("the export program's line_protocol.py is the trainer worker's, byte for byte", () => {
  // Two copies, so that each program runs alone under plain python; one protocol, so they must not drift.
  const worker = readFileSync(
    path.join(repositoryRoot, 'plugins', 'trainers', 'torch', 'worker', 'distill_worker', 'line_protocol.py'),
    'utf8',
  );
  const exporter = readFileSync(path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python', 'line_protocol.py'), 'utf8');
  assert.ok(worker.includes('PROTOCOL_VERSION = 1'));
  assert.equal(exporter, worker, 'edit one copy, then copy it over the other');
});
