import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { distillBin } from './run-distill.js';
import { temporaryDirectory } from './temporary-directory.js';

/**
 * An environment whose PATH starts with a folder holding a `distill` command that runs this checkout's
 * CLI, so a test can run a command line exactly as distill printed it, the way a user pastes it.
 */
export function environmentWithDistillOnPath(context: TestContext): NodeJS.ProcessEnv {
  const bin = temporaryDirectory(context);
  writeFileSync(path.join(bin, 'distill'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(distillBin)} "$@"\n`);
  chmodSync(path.join(bin, 'distill'), 0o755);
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
}

/** The two lines a run ends with: the model folder, and the command that tries it. */
export function printedModel(stdout: string): { folder: string; command: string } | null {
  const folder = /^model: (.+?) {2}\(the current export; how to use it: its README\.md\)$/m.exec(stdout)?.[1];
  const command = /^try it: (.+)$/m.exec(stdout)?.[1];
  return folder && command ? { folder, command } : null;
}
