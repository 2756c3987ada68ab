import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { commands } from '../../bin/commands/index.js';
import { repositoryRoot } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// The manifest is what `distill --help` reads instead of importing every command: it must hold
// every command as the command classes define it.
test('the manifest writer records every command with its summary, flags and examples', (context) => {
  const file = path.join(temporaryDirectory(context), 'oclif.manifest.json');
  const result = spawnSync(process.execPath, [path.join(repositoryRoot, 'dist', 'bin', 'oclif-manifest.js'), file], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
    version: string;
    commands: Record<string, { summary?: string; examples?: string[]; flags: Record<string, unknown> }>;
  };
  const version = (JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(manifest.version, version, 'oclif ignores a manifest of another version');
  assert.deepEqual(Object.keys(manifest.commands).sort(), Object.keys(commands).sort());
  for (const [id, command] of Object.entries(commands)) {
    assert.equal(manifest.commands[id]!.summary, command.summary, id);
    assert.deepEqual(manifest.commands[id]!.examples, command.examples, id);
    assert.deepEqual(
      Object.keys(manifest.commands[id]!.flags).sort(),
      Object.keys({ ...command.baseFlags, ...command.flags, json: true }).sort(),
      id,
    );
  }
});
