import { UserError } from '../errors/user-error.js';
import type { Teacher, TeacherRequest } from '../plugins/kinds/teacher.js';
import type { EngineOutcome, RequestEngine } from './request-engine.js';

/**
 * The `Teacher.samplingRefusal` of a provider teacher whose temperature is set to 0: it would give
 * the likeliest answer every time. Shared by the provider plugins, which may not import each other.
 */
export const greedySamplingRefusal = 'every sample would be the same answer: set options.temperature, e.g. 0.7';

/**
 * Throws, before any request, when the pipeline asks several answers per example (`teacher.samples`
 * above 1) of a teacher that cannot vary them (`Teacher.samplingRefusal`: a temperature of 0,
 * recordings): every sample would be the first answer again, paid for and counted as agreement.
 */
export function checkSampling(teacher: Teacher, pluginId: string, samples: number): void {
  const refusal = teacher.samplingRefusal;
  if (samples <= 1 || !refusal) return;
  // A refusal may end with its own fix ("…: set options.temperature, e.g. 0.7").
  const colon = refusal.lastIndexOf(': ');
  const ownFix = colon >= 0 ? `${refusal.slice(colon + 2)}, ` : 'use a teacher that samples, ';
  throw new UserError({
    message: `teacher.samples is ${samples}, but the ${pluginId} teacher cannot give varied answers: ${refusal}`,
    pointer: '/teacher/samples',
    plugin: `teacher/${pluginId}`,
    fix: `${ownFix}or remove teacher.samples (or set it to 1)`,
  });
}

/**
 * An example's answers, one outcome per sample index from 0 to `samples - 1`, in that order (one
 * outcome, the request as it is, without sampling). Each answer is cached under its own sample index
 * (see `teacherCacheKey`), so the indices already answered come from the cache and raising `samples`
 * later asks only for the new ones. The missing answers are asked in one call where the teacher
 * offers `completeSamples` (OpenAI's `n`), else one request each; see {@link RequestEngine.requestSamples}.
 */
export async function askSamples(
  engine: RequestEngine,
  request: TeacherRequest,
  samples: number,
  signal: AbortSignal,
): Promise<EngineOutcome[]> {
  if (samples <= 1) return [await engine.request(request, signal)];
  const indices = Array.from({ length: samples }, (_, index) => index);
  return engine.requestSamples(request, indices, signal);
}
