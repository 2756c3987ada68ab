import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repositoryRoot } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A TypeScript user must be able to name every type the library's functions take and return: the
// issue found `PredictOptions` used by `Student.predict` but not exported. This walks the declarations
// of everything `distill` and `distill/core` export, and every type they name that is declared in the
// package, and lists those that cannot be imported from the entry (api-extractor's "forgotten export").

/** A program over declaration files, as a consumer's compiler reads them. */
function declarationProgram(entries: readonly string[]): ts.Program {
  const options = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  };
  return ts.createProgram(entries, options);
}

/** `name (declared in file, named by user)` for each type reachable from `entry`'s exports but not exported by it. */
function forgottenExports(program: ts.Program, entry: string, packageDirectory: string): string[] {
  const checker = program.getTypeChecker();
  const entryModule = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const resolve = (symbol: ts.Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  const exported = new Set(checker.getExportsOfModule(entryModule).map(resolve));
  const forgotten = new Map<string, string>();
  const visited = new Set<ts.Symbol>();
  const visitSymbol = (symbol: ts.Symbol): void => {
    if (visited.has(symbol)) return;
    visited.add(symbol);
    for (const declaration of symbol.declarations ?? []) {
      const visit = (node: ts.Node): void => {
        const name = ts.isTypeReferenceNode(node)
          ? node.typeName
          : ts.isTypeQueryNode(node)
            ? node.exprName
            : ts.isExpressionWithTypeArguments(node)
              ? node.expression
              : undefined;
        const named = name && checker.getSymbolAtLocation(name);
        if (named) {
          const target = resolve(named);
          const file = target.declarations?.[0]?.getSourceFile().fileName ?? '';
          const ours = file.startsWith(packageDirectory + path.sep) && !(target.flags & ts.SymbolFlags.TypeParameter);
          if (ours && !exported.has(target)) {
            const where = `declared in ${path.relative(packageDirectory, file)}, named by ${symbol.getName()}`;
            if (!forgotten.has(target.getName())) forgotten.set(target.getName(), where);
            visitSymbol(target);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  };
  for (const symbol of exported) visitSymbol(symbol);
  return [...forgotten].map(([name, where]) => `${name} (${where})`);
}

const compiled = path.join(repositoryRoot, 'dist');
const entries = { distill: path.join(compiled, 'plugins', 'index.d.ts'), 'distill/core': path.join(compiled, 'core', 'index.d.ts') };
const program = declarationProgram(Object.values(entries));

for (const [specifier, entry] of Object.entries(entries)) {
  test(`every type that ${specifier}'s exports name can be imported from ${specifier}`, () => {
    assert.deepEqual(forgottenExports(program, entry, compiled), []);
  });
}

test('the walk finds a type named by an exported function and not exported, through another type', (context) => {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, 'index.d.ts'), "export { run, type Shown } from './run.js';\n");
  writeFileSync(
    path.join(directory, 'run.d.ts'),
    [
      'export interface Shown { readonly count: number }',
      'export interface Hidden { readonly nested: Deeper; readonly shown: Shown }',
      'interface Deeper { readonly text: string }',
      'export declare function run(options: Hidden): Promise<Shown>;',
    ].join('\n'),
  );
  const entry = path.join(directory, 'index.d.ts');
  assert.deepEqual(forgottenExports(declarationProgram([entry]), entry, directory), [
    'Hidden (declared in run.d.ts, named by run)',
    'Deeper (declared in run.d.ts, named by Hidden)',
  ]);
});
