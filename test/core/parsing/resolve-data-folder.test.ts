import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { dataFolderPath, dataFolderRequirement, resolveDataFolder } from '../../../core/parsing/resolve-data-folder.js';
import { UserError } from '../../../core/errors/user-error.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const request = {
  option: 'root',
  variable: 'DATA_DIR',
  what: 'data folder',
  holds: 'the folder holding train.jsonl',
  plugin: 'dataset/test',
};

test('the option resolves against the pipeline’s folder, the variable against the working directory', (context) => {
  const root = temporaryDirectory(context);
  const pipelineFolder = path.join(root, 'pipelines');
  const workingDirectory = path.join(root, 'here');
  assert.equal(
    dataFolderPath({ ...request, given: 'data' }, pipelineFolder, { DATA_DIR: 'ignored' }, workingDirectory),
    path.join(pipelineFolder, 'data'),
  );
  assert.equal(
    dataFolderPath({ ...request, given: undefined }, pipelineFolder, { DATA_DIR: 'data' }, workingDirectory),
    path.join(workingDirectory, 'data'),
  );
  assert.equal(dataFolderPath({ ...request, given: undefined }, pipelineFolder, { DATA_DIR: ' ' }, workingDirectory), null);
});

test('resolveDataFolder takes a relative variable from the process’s working directory', (context) => {
  const root = temporaryDirectory(context);
  mkdirSync(path.join(root, 'data'));
  const relative = path.relative(process.cwd(), path.join(root, 'data'));
  assert.equal(
    resolveDataFolder({ ...request, given: undefined }, path.join(root, 'elsewhere'), { DATA_DIR: relative }),
    path.join(root, 'data'),
  );
  assert.throws(
    () => resolveDataFolder({ ...request, given: undefined }, root, {}),
    (error: unknown) => error instanceof UserError && /set DATA_DIR to the folder holding train\.jsonl/.test(error.problems[0]!.fix ?? ''),
  );
});

test('as a requirement, the folder (and a part inside it) is named for the pre-flight check', (context) => {
  const root = temporaryDirectory(context);
  const requirement = dataFolderRequirement(
    { ...request, given: undefined },
    { baseDirectory: root, workingDirectory: root, environment: { DATA_DIR: 'dsbs' } },
    'esnli',
  );
  assert.equal(requirement.path, path.join(root, 'dsbs', 'esnli'));
  assert.equal(requirement.option, 'root');
  assert.match(requirement.fix, /export DATA_DIR=.*\.env.*relative path resolves against the working directory/);
  assert.equal(
    dataFolderRequirement({ ...request, given: undefined }, { baseDirectory: root, workingDirectory: root, environment: {} }).path,
    null,
  );
});
