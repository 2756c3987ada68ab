#!/usr/bin/env node
// Entry point of the `distill` command. Commands are compiled to dist/bin/commands by `npm run build`.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
