import type { Problem } from '../errors/problem.js';
import type { TeacherDescriptor } from '../plugins/kinds/teacher.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { isPlainObject } from './merge-documents.js';
import { locate, type SourceMap } from './source-map.js';

/**
 * What the schema cannot say about `teacher.mode: batch`: that the teacher plugin offers a batch API.
 * A descriptor's accounting tells (a teacher offering batch mode names its `batchPriceShare`), so the
 * mistake is caught by `distill validate` and the dry run, before any key is needed. A plugin without
 * accounting is checked when its teacher is created, at the start of the teacher stage. Run after each
 * step's options are checked: the accounting is asked only when `problems` (those found so far) has
 * none about the teacher step, so that its options are valid and their defaults filled.
 */
export function batchModeProblems(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  sourceMap: SourceMap,
  problems: readonly Problem[],
): Problem[] {
  const teacher = document.teacher;
  const teacherValid = !problems.some((problem) => problem.pointer === '/teacher' || problem.pointer?.startsWith('/teacher/'));
  if (!isPlainObject(teacher) || teacher.mode !== 'batch' || !teacherValid) return [];
  if (typeof teacher.use !== 'string' || !registry.has('teacher', teacher.use)) return [];
  const descriptor: TeacherDescriptor = registry.get('teacher', teacher.use);
  const accounting = descriptor.accounting?.(isPlainObject(teacher.options) ? teacher.options : {});
  if (!accounting || accounting.batchPriceShare !== undefined) return [];
  return [
    {
      ...(locate(sourceMap, '/teacher/mode') ?? {}),
      pointer: '/teacher/mode',
      plugin: `teacher/${descriptor.id}`,
      message: `the teacher plugin "${descriptor.id}" offers no batch API, so teacher.mode cannot be batch`,
      fix: 'set teacher.mode: realtime (or leave it out), or use a teacher that offers batch mode (openai, anthropic)',
    },
  ];
}
