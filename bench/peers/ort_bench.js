#!/usr/bin/env node
// ONNX Runtime side of Kiln's inference benchmarks (bench/README.md, group "infer").
//
// Runs the models that bench/peers/torch_bench.py --export-onnx DIR wrote (torch.onnx.export, static
// shapes) with onnxruntime-node, timed with the same procedure as Kiln.Bench's Measurement.cs and
// torch_bench.py's measure(): warm-up, calibration of a batch of calls lasting half a repetition,
// then timed repetitions whose mean time per call is one sample. Each call is one awaited
// session.run() on a prebuilt input tensor, as a Node service would call it. Prints JSON lines: one
// {"type":"settings",...} record, then one {"type":"result",...} per model and thread-pool waiting policy:
// impl "onnxruntime-spin" (ORT's default: idle intra-op threads spin) and "onnxruntime-nospin"
// (session.intra_op.allow_spinning 0, which wins when other processes share the cores); Kiln.Bench's
// report takes the faster as ONNX Runtime.
//
//   npm install --ignore-scripts        # once, in bench/peers (the linux-x64 binary is in the npm package)
//   node bench/peers/ort_bench.js --models DIR --threads 2 [--spinning 0,1] [--filter TEXT]
//   node bench/peers/ort_bench.js --probe       # prints the onnxruntime-node version, or exits 3
'use strict';

const fs = require('fs');
const path = require('path');

const MIN_REPS = 3;

function parseArgs(argv) {
  const o = { models: null, threads: 1, filter: null, reps: 9, repMs: 25, warmupMs: 500, firstWarmupMs: 2000, maxMs: 3000,
    spinning: [0, 1], probe: false };
  const numbers = { '--threads': 'threads', '--reps': 'reps', '--rep-ms': 'repMs', '--warmup-ms': 'warmupMs',
    '--first-warmup-ms': 'firstWarmupMs', '--max-ms': 'maxMs' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--probe') o.probe = true;
    else if (a === '--models') o.models = value();
    else if (a === '--filter') o.filter = value();
    else if (a === '--spinning') {
      o.spinning = value().split(',').map(Number);
      if (o.spinning.some((v) => v !== 0 && v !== 1)) throw new Error('--spinning wants 0, 1 or 0,1');
    }
    else if (a in numbers) {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} wants a non-negative number`);
      o[numbers[a]] = v;
    } else throw new Error(`unknown argument '${a}'`);
  }
  return o;
}

function quantile(values, q) {
  const s = [...values].sort((x, y) => x - y);
  const pos = q * (s.length - 1);
  const below = Math.floor(pos);
  const above = Math.min(below + 1, s.length - 1);
  return s[below] + (s[above] - s[below]) * (pos - below);
}

async function timeBatch(call, count) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function measure(call, o, first) {
  const warmupMs = first ? Math.max(o.warmupMs, o.firstWarmupMs) : o.warmupMs;
  const start = process.hrtime.bigint();
  let warm = 0;
  while (warm < 2 || Number(process.hrtime.bigint() - start) / 1e6 < warmupMs) {
    await call();
    warm++;
  }
  const repSeconds = o.repMs / 1000;
  let batch = 1;
  let perCall;
  for (;;) {
    const seconds = await timeBatch(call, batch);
    perCall = seconds / batch;
    if (seconds >= repSeconds / 2 || batch >= 1 << 22) break;
    batch *= 2;
  }
  const inner = Math.max(1, Math.round(repSeconds / perCall));
  let reps = Math.max(MIN_REPS, o.reps);
  if (reps * inner * perCall * 1000 > o.maxMs) reps = Math.max(MIN_REPS, Math.floor(o.maxMs / (inner * perCall * 1000)));
  const samples = [];
  for (let r = 0; r < reps; r++) samples.push((await timeBatch(call, inner)) / inner);
  return { samples, inner };
}

function toUnit(unit, seconds) {
  return unit === 'us' ? seconds * 1e6 : seconds * 1e3;
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    process.stderr.write(`cannot load onnxruntime-node (run 'npm install --ignore-scripts' in ${__dirname}): ${e.message}\n`);
    process.exit(3);
  }
}

/** One model under one set of session options: a result record in the model's unit. */
async function runModel(ort, o, m, options, impl, first) {
  const session = await ort.InferenceSession.create(path.join(o.models, m.file), options);
  const size = m.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.random();
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, m.shape) };
  const { samples: seconds, inner } = await measure(() => session.run(feeds), o, first);
  await session.release();
  const samples = seconds.map((s) => toUnit(m.unit, s));
  return {
    type: 'result', impl, group: 'infer', name: m.name, threads: o.threads, unit: m.unit,
    median: quantile(samples, 0.5), q1: quantile(samples, 0.25), q3: quantile(samples, 0.75),
    reps: samples.length, inner, samples,
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const version = (ort.env && ort.env.versions && ort.env.versions.node) || 'unknown';
  if (o.probe) {
    console.log(`onnxruntime-node ${version} (node ${process.version})`);
    return 0;
  }
  if (!o.models) throw new Error('--models DIR is required (bench/peers/torch_bench.py --export-onnx DIR writes it)');
  const manifest = JSON.parse(fs.readFileSync(path.join(o.models, 'manifest.json'), 'utf8'));
  const options = (spinning) => ({
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: String(spinning) } } },
  });
  console.log(JSON.stringify({ type: 'settings', impl: 'onnxruntime', threads: o.threads, settings: {
    'onnxruntime-node': version,
    node: process.version,
    'session options': `intraOpNumThreads ${o.threads}, interOpNumThreads 1, executionMode sequential, ` +
      `graphOptimizationLevel all; session.intra_op.allow_spinning ${o.spinning.join(' and ')} (onnxruntime-spin: 1, -nospin: 0)`,
    model: `torch.onnx.export (torch ${manifest.torch}, opset ${manifest.opset}, static shapes)`,
  } }));

  let first = true;
  for (const m of manifest.models) {
    if (o.filter && !m.name.toLowerCase().includes(o.filter.toLowerCase())) continue;
    for (const spinning of o.spinning) {
      console.log(JSON.stringify(await runModel(ort, o, m, options(spinning), spinning ? 'onnxruntime-spin' : 'onnxruntime-nospin', first)));
      first = false;
    }
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`ort_bench.js: ${e.stack || e.message}\n`);
  process.exit(1);
});
