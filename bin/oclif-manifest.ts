// Writes oclif.manifest.json at the package root (or to the file given as the first argument): every
// command's summary, flags and examples, so that `distill --help` (and oclif's lookup of a command)
// reads one JSON file instead of importing every command and, through them, the core. Run by the build
// after tsc, so the manifest always matches dist/; delete it to make oclif read the commands again.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Plugin } from '@oclif/core';
import { packageRoot } from '../core/package-root.js';

const plugin = new Plugin({ root: packageRoot, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const file = path.resolve(process.argv[2] ?? path.join(packageRoot, 'oclif.manifest.json'));
writeFileSync(file, JSON.stringify(plugin.manifest, null, 2) + '\n');
process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file}: ${Object.keys(plugin.manifest.commands).length} commands\n`);
