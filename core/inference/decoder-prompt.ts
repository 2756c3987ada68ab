import type { DecoderStudentDescriptor, StudentTask } from './decoder-student-descriptor.js';
import type { StudentTokenizer } from './student-tokenizer.js';

/** The prompt text of a task, as docs/decoder-students.md builds it (chat text around it for chat prompts). */
export function promptText(descriptor: DecoderStudentDescriptor, task: StudentTask, input: string): string {
  const markers = descriptor.tasks[task];
  return (descriptor.chat?.before ?? '') + markers.prefix + input + markers.suffix + (descriptor.chat?.after ?? '');
}

/**
 * The prompt's token ids, as the trainer and PyTorch build them: encoded with the prompt special
 * tokens when the descriptor says so, and longer than `maxInputTokens` cut in the input, keeping the
 * task suffix (and the chat text after it) so that the student still sees what it is asked.
 */
export function promptIds(
  tokenizer: StudentTokenizer,
  descriptor: DecoderStudentDescriptor,
  task: StudentTask,
  input: string,
  maxInputTokens = descriptor.maxInputTokens,
): number[] {
  const ids = tokenizer.encodeText(promptText(descriptor, task, input), descriptor.promptSpecialTokens);
  if (ids.length <= maxInputTokens) return ids;
  const kept = tokenizer.encodeText(descriptor.tasks[task].suffix + (descriptor.chat?.after ?? ''), false).length;
  return [...ids.slice(0, Math.max(0, maxInputTokens - kept)), ...ids.slice(ids.length - kept)];
}

/** The ids a label is scored on: the target prefix and the label, then the end token (docs/decoder-students.md). */
export function labelTargetIds(tokenizer: StudentTokenizer, descriptor: DecoderStudentDescriptor, label: string): number[] {
  return [...tokenizer.encodeText(descriptor.targetPrefix + label, false), labelEndToken(tokenizer, descriptor)];
}

/**
 * The token that ends a label: the end token, or with label-then-rationale targets the first token
 * of the rationale separator (what follows a label in training).
 */
export function labelEndToken(tokenizer: StudentTokenizer, descriptor: DecoderStudentDescriptor): number {
  if (descriptor.targets !== 'label-then-rationale') return descriptor.eosTokenId;
  return tokenizer.encodeText(descriptor.rationaleSeparator, false)[0] ?? descriptor.eosTokenId;
}
