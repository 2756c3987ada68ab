// Runs an exported student from your own code, with distill as a library:
//   node predict.mjs <model folder> <text>...
// The model folder is the one a run prints at its end (the quickstart's: pipelines/runs/quickstart/model),
// and each text is written the way the pipeline's `student_input` writes its examples.
import { loadStudent } from 'distill';

const [modelFolder, ...texts] = process.argv.slice(2);
if (!modelFolder || texts.length === 0) {
  console.error('usage: node predict.mjs <model folder> <text>...');
  process.exit(2);
}

const student = await loadStudent(modelFolder);
try {
  // `explain: true` also generates each rationale; leave it out to get labels only, twice as fast.
  const predictions = await student.predict(texts, { explain: true });
  for (const [index, prediction] of predictions.entries()) {
    console.log(JSON.stringify({ text: texts[index], label: prediction.label, rationale: prediction.rationale }));
  }
} finally {
  await student.close();
}
