import { spawnSync } from 'node:child_process';

/** Python packages whose versions the lockfile records. */
const recordedPackages = ['torch', 'transformers', 'tokenizers', 'sentencepiece', 'safetensors', 'onnx', 'onnxruntime', 'onnxscript'];

/**
 * Versions of the worker's Python packages, read without importing them (fast, and it works even
 * where torch would fail to load). Null for a package that is not installed; empty when the
 * interpreter itself cannot run.
 */
export function workerPackageVersions(interpreter: string): Record<string, string | null> {
  const script = [
    'import json, importlib.metadata as m, sys',
    `names = ${JSON.stringify(recordedPackages)}`,
    'def version(name):',
    '    try:',
    '        return m.version(name)',
    '    except m.PackageNotFoundError:',
    '        return None',
    'print(json.dumps({"python": sys.version.split()[0], **{name: version(name) for name in names}}))',
  ].join('\n');
  const probe = spawnSync(interpreter, ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) return {};
  try {
    return JSON.parse(probe.stdout) as Record<string, string | null>;
  } catch {
    return {};
  }
}
