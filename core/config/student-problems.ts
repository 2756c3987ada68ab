import type { Problem } from '../errors/problem.js';
import { isPlainObject } from './merge-documents.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/** The `student.config` keys of each family's from-scratch student: T5's and Llama's dimensions. */
export const studentConfigKeys = {
  t5: ['d_model', 'd_ff', 'd_kv', 'num_heads', 'num_layers', 'num_decoder_layers', 'dropout_rate'],
  'causal-lm': ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads'],
} as const;

/** Keys of the student block that only a causal-LM student reads. */
const decoderOnlyKeys = ['prompt', 'targets', 'rationale_separator'] as const;

type Family = keyof typeof studentConfigKeys;

/**
 * What the schema cannot say about a student block: that `config` holds the keys of the student's family
 * (T5 keys for `t5`, Llama keys for `causal-lm`) and that the causal-LM keys are not given to a T5 student.
 * The family of a from-scratch student is `family`, else `t5`; a pretrained student's family is known only
 * once its model is read (the worker checks it then), so only an explicit `family: t5` is held against it.
 */
export function studentProblems(document: Record<string, unknown>, sourceMap: SourceMap): Problem[] {
  const student = document.student;
  if (!isPlainObject(student)) return [];
  const problems: Problem[] = [];
  const pointer = '/student';
  const at = (target: string, preferKey: boolean) => locate(sourceMap, target, preferKey) ?? {};
  const pretrained = typeof student.pretrained === 'string';
  const family: Family | undefined = student.family === 'causal-lm' || student.family === 't5' ? student.family : undefined;
  const configFamily: Family = family ?? 't5';
  if (isPlainObject(student.config)) {
    if (pretrained) {
      problems.push({
        ...at(childPointer(pointer, 'config'), true),
        pointer: childPointer(pointer, 'config'),
        message: 'student.config sizes a from-scratch student; a pretrained student brings its own dimensions',
        fix: 'remove config, or remove pretrained to train from scratch',
      });
    } else {
      const other: Family = configFamily === 't5' ? 'causal-lm' : 't5';
      for (const key of Object.keys(student.config)) {
        if (!(studentConfigKeys[other] as readonly string[]).includes(key)) continue;
        const keyPointer = childPointer(childPointer(pointer, 'config'), key);
        problems.push({
          ...at(keyPointer, true),
          pointer: keyPointer,
          message: `"${key}" is a ${other} dimension, but this student is family ${configFamily}${family ? '' : ' (no family given)'}`,
          fix:
            other === 'causal-lm'
              ? `add "family: causal-lm" to the student block, or use the t5 keys: ${studentConfigKeys.t5.join(', ')}`
              : `use the causal-lm keys: ${studentConfigKeys['causal-lm'].join(', ')}, or set "family: t5"`,
        });
      }
    }
  }
  if (family === 't5' || (!family && !pretrained)) {
    for (const key of decoderOnlyKeys) {
      if (!(key in student)) continue;
      const keyPointer = childPointer(pointer, key);
      problems.push({
        ...at(keyPointer, true),
        pointer: keyPointer,
        message: `student.${key} applies to causal-lm students only; this student is family t5${family ? '' : ' (no family given)'}`,
        fix: 'add "family: causal-lm" (or a pretrained Llama/Qwen model), or remove the key',
      });
    }
  }
  return problems;
}
