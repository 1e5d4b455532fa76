// node make_variants.mjs SAMPLE.json OUT_DIR
//
// Writes variants of the sample metrics that the report must draw without an
// error, each as OUT_DIR/<name>.json:
//   single_policy  one policy (no challenger, swap null) with no reason code,
//                  one period, and no model
//   long_periods   both policies over 3,000 days
//   hostile        markup, quotes and script end tags in every name and text,
//                  a model with null statistics and empty curves, an action
//                  with no decisions (bad_rate null)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [samplePath, outDir] = process.argv.slice(2);
if (!samplePath || !outDir) {
  console.error('usage: node make_variants.mjs SAMPLE.json OUT_DIR');
  process.exit(2);
}
const sample = JSON.parse(readFileSync(samplePath, 'utf8'));
const copy = () => structuredClone(sample);
mkdirSync(outDir, { recursive: true });
const write = (name, metrics) => {
  writeFileSync(join(outDir, name + '.json'), JSON.stringify(metrics, null, 1));
  console.log(join(outDir, name + '.json'));
};

// single_policy
{
  const m = copy();
  const p = m.policies[0];
  p.reasons = [];
  p.over_time = p.over_time.slice(0, 1);
  p.models = [];
  m.policies = [p];
  m.models = [];
  m.swap = null;
  write('single_policy', m);
}

// long_periods: the sample's days repeated, with dates running on.
{
  const m = copy();
  const start = Date.UTC(2018, 0, 1);
  for (const p of m.policies) {
    const days = p.over_time;
    p.over_time = Array.from({ length: 3000 }, (_, i) => ({
      ...structuredClone(days[i % days.length]),
      period: new Date(start + i * 86400000).toISOString().slice(0, 10),
    }));
  }
  write('long_periods', m);
}

// hostile: every string the report shows may hold markup; none may run.
{
  const m = copy();
  const evil = (s) => s + ' </script><script>window.sluicePwned = 1</script><img src=x onerror="window.sluicePwned = 2"> "\'&amp; <!--';
  m.pipeline.name = evil(m.pipeline.name);
  m.pipeline.file = evil(m.pipeline.file);
  m.pipeline.hash = evil(m.pipeline.hash);
  m.input = evil(m.input);
  m.labels = evil(m.labels);
  for (const p of m.policies) {
    for (const r of p.reasons) r.text = evil(r.text);
    p.reasons[0].code = evil(p.reasons[0].code);
  }
  // An action that no record got: rate 0, bad_rate null.
  for (const p of m.policies) {
    p.actions.push({ action: 'escalate', count: 0, rate: 0, labelled: 0, good: 0, bad: 0, bad_rate: null });
    for (const t of p.over_time) t.counts.escalate = 0;
  }
  const model = m.models[1];
  Object.assign(model, { auc: null, gini: null, ks: null, ks_score: null, roc: [], ks_curve: [] });
  model.histogram = model.histogram.map((b) => ({ ...b, bad: 0 }));
  model.name = evil(model.name);
  m.swap.swap_out.bad_rate = null;
  write('hostile', m);
}
