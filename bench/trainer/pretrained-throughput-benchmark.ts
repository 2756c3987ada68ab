import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import {
  decoderStudentStart,
  quickstartFile,
  readRecipe,
  smollm2RecipeFile,
  studentBlock,
  trainerOptions,
} from '../support/decoder-student-recipe.js';
import type { BenchMode } from '../support/result-file.js';
import { runDriverWithSettings, writeTrainingData } from './trainer-throughput-benchmark.js';

/**
 * The worker's throughput on the pretrained SmolLM2-135M student (`pretrained_throughput.py`): steps/s
 * and tokens/s over a fixed number of steps, median of interleaved repeats of both target layouts,
 * against the bf16 matmul peak. The student, its prompt and lengths, batch size and learning rate are
 * the quickstart's (`pipelines/quickstart.yaml` over `pipelines/shared/smollm2-student.yaml`); the data
 * is e-SNLI valid with the quickstart's student input, gold labels and the PaLM rationales. Smoke mode
 * trains the tiny random-init Llama instead.
 */
export async function runPretrainedThroughputBenchmark(mode: BenchMode): Promise<{ settings: Record<string, unknown>; results: unknown }> {
  const smoke = mode === 'smoke';
  const quickstart = readRecipe(quickstartFile);
  const quickstartStudent = studentBlock(quickstart);
  const quickstartTrainer = trainerOptions(quickstart);
  const studentInput = (quickstart.dataset as { options?: { student_input?: string } } | undefined)?.options?.student_input;
  const start = decoderStudentStart(mode);
  const recipeStudent = smoke ? start.student : studentBlock(readRecipe(smollm2RecipeFile));
  // The request's student block: the recipe's (its `targets` set per run), the quickstart's lengths.
  const student: Record<string, unknown> = {
    ...recipeStudent,
    max_input_length: smoke ? 64 : quickstartStudent.max_input_length,
    max_target_length: smoke ? 24 : quickstartStudent.max_target_length,
  };
  delete student.targets;
  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-pretrained-throughput-'));
  try {
    const data = path.join(work, 'esnli-valid-train.jsonl');
    const written = await writeTrainingData(data, smoke ? 200 : null, studentInput);
    const settings = {
      data,
      data_description: `e-SNLI valid: ${written.examples} examples, gold labels, ${written.withRationale} with a PaLM rationale (palm parser), the quickstart's student input`,
      work_directory: work,
      worker_main: workerMainScript,
      student,
      layouts: ['two-tasks', 'label-then-rationale'],
      warmup_steps: smoke ? 1 : 3,
      measured_steps: smoke ? 3 : 10,
      repeats: 3,
      threads: 2,
      batch_size: smoke ? 4 : (quickstartTrainer.batch_size as number),
      alpha: 0.5,
      learning_rate: smoke ? 1e-3 : (quickstartTrainer.learning_rate as number),
      matmul_size: smoke ? 512 : 2048,
      options_schema: workerOptionsSchema,
      flops:
        '6 × non-embedding parameters × real tokens + 6 × hidden size × vocabulary × target tokens (the output layer at target positions only); attention scores, norms and embedding look-ups not counted',
    };
    return await runDriverWithSettings(work, settings, 'pretrained_throughput.py');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
