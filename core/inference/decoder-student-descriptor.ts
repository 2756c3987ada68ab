import { UserError } from '../errors/user-error.js';

/** The file the trainer writes into every decoder student's folder and the exporter copies (docs/decoder-students.md). */
export const studentDescriptorFile = 'distill-student.json';

/** The task markers around a student's input. */
export interface TaskMarkers {
  readonly prefix: string;
  readonly suffix: string;
}

/** The tasks a student was trained on. */
export type StudentTask = 'predict' | 'explain';

/** `distill-student.json` of a causal-LM student, as docs/decoder-students.md defines it. */
export interface DecoderStudentDescriptor {
  readonly family: 'causal-lm';
  readonly promptFormat: 'plain' | 'chat';
  /** Whether the prompt is encoded with the tokenizer's special tokens (a start token, for most). */
  readonly promptSpecialTokens: boolean;
  /** The chat template's text around the user message, for `chat` prompts. */
  readonly chat: { readonly before: string; readonly after: string } | null;
  readonly tasks: Readonly<Record<StudentTask, TaskMarkers>>;
  /** Text before every target (usually a space). */
  readonly targetPrefix: string;
  readonly targets: 'two-tasks' | 'label-then-rationale';
  readonly rationaleSeparator: string;
  readonly maxInputTokens: number;
  readonly maxNewTokens: number;
  /** The closed label set seen in training, or null for open answers. */
  readonly labels: readonly string[] | null;
  readonly eosTokenId: number;
  readonly padTokenId: number;
}

/** The families `distill-student.json` may name. */
const knownFamilies = ['causal-lm'];

/**
 * Checks a parsed `distill-student.json` and returns it typed. Every wrong field is named by its JSON
 * pointer in one {@link UserError}, with the file, so a hand-edited or foreign folder fails at load.
 */
export function parseDecoderStudentDescriptor(value: unknown, file: string): DecoderStudentDescriptor {
  const problems: string[] = [];
  const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const fix = 'export the student again with `distill export` from a folder the trainer wrote (docs/decoder-students.md)';
  if (record !== value) throw new UserError({ message: `${file} is not a JSON object`, file, fix });
  if (!knownFamilies.includes(record.family as string)) {
    throw new UserError({
      message: `${file} names the student family ${JSON.stringify(record.family)}, which distill does not know (known: ${knownFamilies.join(', ')}; T5 folders have no ${studentDescriptorFile})`,
      file,
      pointer: '/family',
      fix,
    });
  }
  const text = (pointer: string, field: unknown): string => {
    if (typeof field === 'string') return field;
    problems.push(`${pointer} must be a string`);
    return '';
  };
  const count = (pointer: string, field: unknown, minimum: number): number => {
    if (typeof field === 'number' && Number.isInteger(field) && field >= minimum) return field;
    problems.push(`${pointer} must be an integer of at least ${minimum}`);
    return minimum;
  };
  const oneOf = <T extends string>(pointer: string, field: unknown, allowed: readonly T[], fallback: T): T => {
    if (allowed.includes(field as T)) return field as T;
    if (field === undefined) return fallback;
    problems.push(`${pointer} must be one of ${allowed.join(', ')}`);
    return fallback;
  };
  const tasksField = (record.tasks ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const markers = (task: StudentTask): TaskMarkers => ({
    prefix: text(`/tasks/${task}/prefix`, tasksField[task]?.prefix),
    suffix: text(`/tasks/${task}/suffix`, tasksField[task]?.suffix),
  });
  const promptFormat = oneOf('/prompt_format', record.prompt_format, ['plain', 'chat'], 'plain');
  let chat: DecoderStudentDescriptor['chat'] = null;
  if (promptFormat === 'chat') {
    const chatField = (record.chat ?? {}) as Record<string, unknown>;
    chat = { before: text('/chat/before', chatField.before), after: text('/chat/after', chatField.after) };
  }
  let labels: string[] | null = null;
  if (record.labels !== null && record.labels !== undefined) {
    if (Array.isArray(record.labels) && record.labels.length > 0 && record.labels.every((label) => typeof label === 'string')) {
      labels = record.labels;
    } else {
      problems.push('/labels must be null or a non-empty list of strings');
    }
  }
  const descriptor: DecoderStudentDescriptor = {
    family: 'causal-lm',
    promptFormat,
    promptSpecialTokens: record.prompt_special_tokens !== false,
    chat,
    tasks: { predict: markers('predict'), explain: markers('explain') },
    targetPrefix: text('/target_prefix', record.target_prefix ?? ''),
    targets: oneOf('/targets', record.targets, ['two-tasks', 'label-then-rationale'], 'two-tasks'),
    rationaleSeparator: text('/rationale_separator', record.rationale_separator ?? ''),
    maxInputTokens: count('/max_input_tokens', record.max_input_tokens, 2),
    maxNewTokens: count('/max_new_tokens', record.max_new_tokens, 1),
    labels,
    eosTokenId: count('/eos_token_id', record.eos_token_id, 0),
    padTokenId: count('/pad_token_id', record.pad_token_id ?? record.eos_token_id, 0),
  };
  if (descriptor.targets === 'label-then-rationale' && descriptor.rationaleSeparator === '') {
    problems.push('/rationale_separator must not be empty with label-then-rationale targets');
  }
  if (problems.length > 0) {
    throw new UserError(
      problems.map((problem) => ({
        message: `${file}: ${problem}`,
        file,
        pointer: problem.split(' ')[0],
        fix,
      })),
    );
  }
  return descriptor;
}
