import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import type { TeacherDescriptor } from '../../core/plugins/kinds/teacher.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { repositoryRoot } from '../support/paths.js';

// Core never imports a plugin and never names one: what it needs from a plugin is a method of the
// plugin kind's contract, and the plugins come from the registry the composition root hands it.
// The names are taken from the registry, so the rule follows every plugin added to the built-in list.

const coreDirectory = path.join(repositoryRoot, 'core');
const pluginsDirectory = path.join(repositoryRoot, 'plugins');

/** What core must not name: every built-in plugin as `id` and `kind/id`, and every teacher's provider. */
function pluginNames(): { ids: Set<string>; references: Set<string>; providers: Set<string> } {
  const registry = builtinRegistry();
  const descriptors = registry.list();
  const providers = new Set<string>();
  for (const descriptor of registry.list('teacher') as TeacherDescriptor[]) {
    for (const options of [descriptor.exampleOptions, descriptor.comparisonOptions]) {
      if (descriptor.accounting && options) providers.add(descriptor.accounting(options).provider);
    }
  }
  return {
    ids: new Set(descriptors.map((descriptor) => descriptor.id)),
    references: new Set(descriptors.map((descriptor) => `${descriptor.kind}/${descriptor.id}`)),
    providers,
  };
}

/** One finding: where, and what. */
interface Finding {
  readonly line: number;
  readonly text: string;
}

/**
 * String literals (plain, template and literal types) that name a plugin: an id or provider as the
 * whole literal, a `kind/id` reference, or a `provider/…` key such as a price row. Words inside
 * sentences and file names (`events.jsonl`, `onnx/encoder_model`) are not names.
 */
function pluginNameLiterals(file: string, source: string, names = pluginNames()): Finding[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const findings: Finding[] = [];
  const namesAPlugin = (text: string) =>
    names.ids.has(text) ||
    names.providers.has(text) ||
    names.references.has(text) ||
    [...names.providers].some((provider) => text.startsWith(`${provider}/`));
  const visit = (node: ts.Node): void => {
    const literal = ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node);
    if (literal && !isModuleSpecifier(node) && namesAPlugin(node.text)) {
      findings.push({ line: sourceFile.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

function isModuleSpecifier(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    ((ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent)) && parent.moduleSpecifier === node) ||
    (ts.isLiteralTypeNode(parent) && ts.isImportTypeNode(parent.parent))
  );
}

/** Module specifiers (static, dynamic, `import type`, `typeof import()`, `require`) that resolve under `plugins/`. */
function pluginImports(file: string, source: string): Finding[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const findings: Finding[] = [];
  const check = (specifier: ts.Node | undefined): void => {
    if (!specifier || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith('.')) return;
    const target = path.resolve(path.dirname(file), specifier.text);
    if (target === pluginsDirectory || target.startsWith(pluginsDirectory + path.sep)) {
      findings.push({ line: sourceFile.getLineAndCharacterOfPosition(specifier.getStart()).line + 1, text: specifier.text });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) check(node.moduleSpecifier);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) check(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const dynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (dynamic || required) check(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

function* typeScriptFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

/** Every finding under `core/`, as `file:line text`. */
function coreFindings(find: (file: string, source: string) => Finding[]): string[] {
  const lines: string[] = [];
  for (const file of typeScriptFiles(coreDirectory)) {
    const relative = path.relative(repositoryRoot, file).split(path.sep).join('/');
    for (const finding of find(file, readFileSync(file, 'utf8'))) lines.push(`${relative}:${finding.line} ${JSON.stringify(finding.text)}`);
  }
  return lines;
}

test('no file under core/ names a built-in plugin or a teacher provider in a string', () => {
  assert.deepEqual(coreFindings(pluginNameLiterals), []);
});

test('no file under core/ imports anything under plugins/', () => {
  assert.deepEqual(coreFindings(pluginImports), []);
});

test('the checks find what they look for: a plugin id, a kind/id, a price key, an import of plugins/', () => {
  const file = path.join(coreDirectory, 'runner', 'example.ts');
  const source = [
    "import { openAiTeacher } from '../../plugins/teachers/openai/openai-teacher.js';",
    "import type { Price } from '../config/pipeline-config.js';",
    "const metric: 'exact-match' | 'other' = 'exact-match';",
    'const plugin = `teacher/openai`;',
    "const key = `openai/${'gpt-4o-mini'}`;",
    "const files = ['events.jsonl', 'onnx/encoder_model', 'the template uses {x}'];",
    "const later = import('../../plugins/builtin-plugins.js');",
  ].join('\n');
  assert.deepEqual(
    pluginNameLiterals(file, source).map((finding) => `${finding.line} ${finding.text}`),
    ['3 exact-match', '3 exact-match', '4 teacher/openai', '5 openai/'],
  );
  assert.deepEqual(
    pluginImports(file, source).map((finding) => `${finding.line} ${finding.text}`),
    ['1 ../../plugins/teachers/openai/openai-teacher.js', '7 ../../plugins/builtin-plugins.js'],
  );
});
