import assert from "node:assert/strict";
import FFT from "npm:fft.js@4.0.4";
import { ComplexFft } from "../lib/fft.ts";
import { ParameterError } from "../lib/errors.ts";

/** Deterministic values in [−1, 1) with a wide spread of magnitudes (rounding differences would show). */
function values(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 1073741824 - 1) * 10 ** ((s % 7) - 3);
  });
}

Deno.test("ComplexFft gives fft.js's transform and inverseTransform bit for bit", () => {
  for (const size of [2, 4, 8, 16, 32, 64, 256, 1024, 4096]) {
    const reference = new FFT(size);
    const fft = new ComplexFft(size);
    assert.deepEqual([...fft.table], reference.table, `table, size ${size}`);
    const data = values(2 * size, size);
    const expected = reference.createComplexArray() as number[], out = new Float64Array(2 * size);
    reference.transform(expected, [...data]);
    fft.transform(out, data);
    assert.deepEqual([...out], expected, `transform, size ${size}`);
    // inverseTransform divides every value of a longer output too
    const inverse = new Float64Array(2 * size + 2).fill(3), expectedInverse = new Array(2 * size + 2).fill(3);
    reference.inverseTransform(expectedInverse, [...data]);
    fft.inverseTransform(inverse, data);
    assert.deepEqual([...inverse], expectedInverse, `inverseTransform, size ${size}`);
  }
});

Deno.test("ComplexFft: a tone lands in its bin and the inverse restores the input", () => {
  const size = 64, bin = 5;
  const data = new Float64Array(2 * size);
  for (let n = 0; n < size; n++) {
    data[2 * n] = Math.cos(2 * Math.PI * bin * n / size);
    data[2 * n + 1] = Math.sin(2 * Math.PI * bin * n / size);
  }
  const fft = new ComplexFft(size), spectrum = new Float64Array(2 * size), back = new Float64Array(2 * size);
  fft.transform(spectrum, data);
  for (let k = 0; k < size; k++) {
    const magnitude = Math.hypot(spectrum[2 * k], spectrum[2 * k + 1]);
    assert.ok(Math.abs(magnitude - (k === bin ? size : 0)) < 1e-9, `bin ${k}: ${magnitude}`);
  }
  fft.inverseTransform(back, spectrum);
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back[i] - data[i]) < 1e-12);
});

Deno.test("ComplexFft rejects sizes that are not powers of two ≥ 2 and shared buffers", () => {
  for (const size of [0, 1, 3, 12, NaN]) assert.throws(() => new ComplexFft(size), ParameterError);
  const a = new Float64Array(8);
  assert.throws(() => new ComplexFft(4).transform(a, a), ParameterError);
});
