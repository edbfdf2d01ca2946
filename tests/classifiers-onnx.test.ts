import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxGraphBuilder } from '../pipeline/onnx/builder.ts';
import { OnnxSession } from '../pipeline/onnx/session.ts';

test('a MatMul + Add + Softmax graph built in code gives the same numbers in ONNX Runtime as in JS', async () => {
  const g = new OnnxGraphBuilder('linear_softmax');
  g.input('x', 'float32', ['batch', 3]);
  const w = [0.5, -1, 2, 0.25, -0.75, 1.5];
  const b = [0.1, -0.2];
  g.initializer('w', 'float32', [3, 2], w);
  g.initializer('b', 'float32', [2], b);
  const [xw] = g.node('MatMul', ['x', 'w'], 1);
  const [logits] = g.node('Add', [xw!, 'b'], ['logits']);
  g.node('Softmax', [logits!], ['probs'], { axis: { int: -1 } });
  g.output('logits', 'float32', ['batch', 2]);
  g.output('probs', 'float32', ['batch', 2]);
  const session = await OnnxSession.load(g.toBytes());
  assert.deepEqual([...session.inputNames], ['x']);
  assert.deepEqual([...session.outputNames], ['logits', 'probs']);

  const rows = [
    [1, 2, 3],
    [-1, 0.5, 0],
    [0, 0, 0],
  ];
  const out = await session.run({ x: { type: 'float32', data: Float32Array.from(rows.flat()), dims: [3, 3] } });
  assert.deepEqual([...out.logits!.dims], [3, 2]);
  for (let r = 0; r < rows.length; r++) {
    const z = [0, 1].map((c) => rows[r]!.reduce((s, v, k) => s + v * w[k * 2 + c]!, 0) + b[c]!);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / (e[0]! + e[1]!));
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs((out.logits!.data[r * 2 + c] as number) - z[c]!) < 1e-5);
      assert.ok(Math.abs((out.probs!.data[r * 2 + c] as number) - p[c]!) < 1e-6);
    }
  }
  await session.close();
});

test('int64 initializers, Gather and attributes of every kind (int, float, string, tensor) load and run', async () => {
  // An embedding bag: sum rows of E picked by ids into their documents (ScatterND, reduction "add").
  const g = new OnnxGraphBuilder('bag');
  g.input('ids', 'int64', ['n']);
  g.input('bag', 'int64', ['n']);
  g.input('weights', 'float32', ['n']);
  const E = [1, 2, 10, 20, 100, 200, 1000, 2000]; // 4 rows x 2
  g.initializer('E', 'float32', [4, 2], E);
  g.initializer('axis_last', 'int64', [1], [-1]);
  g.initializer('two', 'int64', [1], [2]);
  g.initializer('one32', 'int32', [1], [1]);
  const [rows] = g.node('Gather', ['E', 'ids'], 1, { axis: { int: 0 } });
  const [w2] = g.node('Unsqueeze', ['weights', 'axis_last'], 1);
  const [scaled] = g.node('Mul', [rows!, w2!], 1);
  const [idx] = g.node('Unsqueeze', ['bag', 'axis_last'], 1);
  const [maxBag] = g.node('ReduceMax', ['bag'], 1, { keepdims: { int: 1 }, axes: { ints: [0] } });
  const [one64] = g.node('Cast', ['one32'], 1, { to: { int: 7 } });
  const [n] = g.node('Add', [maxBag!, one64!], 1);
  const [shape] = g.node('Concat', [n!, 'two'], 1, { axis: { int: 0 } });
  const [zeros] = g.node('ConstantOfShape', [shape!], 1, { value: { tensor: { type: 'float32', dims: [1], data: [0] } } });
  const [summed] = g.node('ScatterND', [zeros!, idx!, scaled!], 1, { reduction: { string: 'add' } });
  g.node('LeakyRelu', [summed!], ['out'], { alpha: { float: 0.5 } });
  g.output('out', 'float32', ['docs', 2]);
  const session = await OnnxSession.load(g.toBytes({ metadata: { purpose: 'test' } }));
  const out = await session.run({
    ids: { type: 'int64', data: BigInt64Array.from([0n, 2n, 1n, 3n, 3n]), dims: [5] },
    bag: { type: 'int64', data: BigInt64Array.from([0n, 0n, 1n, 2n, 2n]), dims: [5] },
    weights: { type: 'float32', data: Float32Array.from([1, 1, -1, 0.5, 0.5]), dims: [5] },
  });
  assert.deepEqual([...out.out!.dims], [3, 2]);
  // doc 0: E0 + E2 = [101, 202]; doc 1: -E1 = [-10, -20] -> leaky 0.5 -> [-5, -10]; doc 2: E3 = [1000, 2000]
  assert.deepEqual([...(out.out!.data as Float32Array)], [101, 202, -5, -10, 1000, 2000]);
  await session.close();
});

test('runBatches covers every row once, in order, one batch at a time', async () => {
  const g = new OnnxGraphBuilder('double');
  g.input('x', 'float32', ['batch', 1]);
  g.initializer('two', 'float32', [1], [2]);
  g.node('Mul', ['x', 'two'], ['y']);
  g.output('y', 'float32', ['batch', 1]);
  const session = await OnnxSession.load(g.toBytes());
  const values = Array.from({ length: 10 }, (_, i) => i);
  const got: number[] = [];
  const batches: number[] = [];
  await session.runBatches(
    values.length,
    4,
    (s, e) => ({ x: { type: 'float32', data: Float32Array.from(values.slice(s, e)), dims: [e - s, 1] } }),
    (s, e, out) => {
      batches.push(e - s);
      got.push(...(out.y!.data as Float32Array));
    },
  );
  assert.deepEqual(batches, [4, 4, 2]);
  assert.deepEqual(got, values.map((v) => v * 2));
  await session.close();
});

test('the builder refuses a tensor whose data does not fit its dims, and a name defined twice', () => {
  const g = new OnnxGraphBuilder('bad');
  assert.throws(() => g.initializer('w', 'float32', [2, 2], [1, 2, 3]), /3 values but dims \[2, 2\] need 4/);
  g.input('x', 'float32', [1]);
  assert.throws(() => g.initializer('x', 'float32', [1], [1]), /defined twice/);
});

test('a model ONNX Runtime cannot load fails with a RefineryError naming it', async () => {
  await assert.rejects(OnnxSession.load(new Uint8Array([1, 2, 3, 4])), /cannot load ONNX model <4 bytes>/);
});
