import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { withRun, type RunScope } from '../../../core/container/run-scope.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { childProcessIds, descriptorsOn } from '../../support/process-resources.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** A run scope whose body opens a cache and starts a long-lived child, then ends as `ending` says. */
async function runThatHoldsResources(
  directory: string,
  ending: 'success' | 'failure' | 'cancel',
): Promise<{ cacheFile: string; childPid: number }> {
  const cacheFile = path.join(directory, `${ending}.sqlite`);
  let childPid = 0;
  const cancel = new AbortController();
  const body = async ({ dependencies, caches }: RunScope) => {
    caches
      .open(cacheFile)
      .put(
        'key',
        { pluginId: 'p', pluginVersion: '1', provider: 'x', model: 'm' },
        { text: 'an answer', usage: { promptTokens: 1, completionTokens: 1 }, model: 'm', finishReason: null },
        Date.now(),
      );
    // A child that would outlive the run by far (it ignores nothing: SIGTERM ends it).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'ignore' });
    dependencies.processes.track(child);
    await once(child, 'spawn');
    childPid = child.pid!;
    assert.ok(descriptorsOn(cacheFile) > 0, 'the cache is open inside the run');
    assert.ok(childProcessIds().includes(childPid), 'the child runs inside the run');
    if (ending === 'failure') throw new Error('a stage failed');
    if (ending === 'cancel') {
      cancel.abort(new Error('cancelled by the user'));
      throw dependencies.signal.reason;
    }
  };
  await withRun({ registry: new PluginRegistry([]), environment: {}, baseDirectory: directory, signal: cancel.signal }, body).catch(
    (error: unknown) => {
      if (ending === 'success') throw error;
    },
  );
  return { cacheFile, childPid };
}

for (const ending of ['success', 'failure', 'cancel'] as const) {
  test(`a run scope that ends in ${ending} closes its teacher caches and stops its child processes`, async (context) => {
    const before = childProcessIds();
    const { cacheFile, childPid } = await runThatHoldsResources(temporaryDirectory(context), ending);
    assert.equal(descriptorsOn(cacheFile), 0, 'no descriptor left on the cache or its log');
    assert.ok(!childProcessIds().includes(childPid), 'the child is gone');
    assert.deepEqual(childProcessIds(), before);
    assert.ok(!process.getActiveResourcesInfo().includes('ChildProcess'), process.getActiveResourcesInfo().join(', '));
  });
}
