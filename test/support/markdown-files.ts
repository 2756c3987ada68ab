import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repositoryRoot } from './paths.js';

/** One fenced block of a guide that names the file it holds: ```yaml file=pipeline.yaml. */
export interface MarkdownFile {
  /** Path relative to the folder the guide's files go in. */
  readonly name: string;
  /** The block's language (`yaml`, `json`, `ts`, …). */
  readonly language: string;
  readonly text: string;
}

/**
 * The fenced blocks of a Markdown file under `docs/` whose info string names a file (`file=…`), in
 * order. Tests write them out and run them, so a guide's examples cannot drift from what works.
 */
export function markdownFiles(guide: string): MarkdownFile[] {
  const source = readFileSync(path.join(repositoryRoot, 'docs', guide), 'utf8');
  const blocks: MarkdownFile[] = [];
  for (const match of source.matchAll(/^```(\w+) file=(\S+)\n([\s\S]*?)^```$/gm)) {
    blocks.push({ language: match[1]!, name: match[2]!, text: match[3]! });
  }
  return blocks;
}

/** Writes a guide's files into `directory` (folders made as needed); returns their names. */
export function writeMarkdownFiles(guide: string, directory: string): string[] {
  const files = markdownFiles(guide);
  for (const file of files) {
    const target = path.join(directory, file.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.text);
  }
  return files.map((file) => file.name);
}
