/**
 * Butterworth IIR filters as second-order sections, designed and ordered exactly as scipy 1.x
 * `butter(order, [lowHz, highHz], "bandpass", fs=sampleRate, output="sos")` does (analog
 * prototype → band transform → bilinear transform → `zpk2sos` with "nearest" pairing), and run
 * like `sosfilt` / `sosfiltfilt` (odd padding, steady-state initial conditions).
 * @module
 */
import { ParameterError } from "./errors.ts";
import { assertValidAudio, type Waveform } from "./types.ts";

// ---- a little complex arithmetic (numbers as [re, im]) ----
type Complex = [number, number];
const add = (a: Complex, b: Complex): Complex => [a[0] + b[0], a[1] + b[1]];
const sub = (a: Complex, b: Complex): Complex => [a[0] - b[0], a[1] - b[1]];
const mul = (a: Complex, b: Complex): Complex => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const scale = (a: Complex, s: number): Complex => [a[0] * s, a[1] * s];
const abs = (a: Complex): number => Math.hypot(a[0], a[1]);
function div(a: Complex, b: Complex): Complex {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
}
/** Principal square root, as numpy's complex sqrt. */
function sqrt(a: Complex): Complex {
  const r = abs(a);
  if (r === 0) return [0, 0];
  const re = Math.sqrt((r + a[0]) / 2);
  const im = Math.sqrt((r - a[0]) / 2);
  return [re, a[1] < 0 || (a[1] === 0 && Object.is(a[1], -0)) ? -im : im];
}

interface Zpk {
  zeros: Complex[];
  poles: Complex[];
  gain: number;
}

/** scipy `_cplxreal`: one of each conjugate pair (positive imaginary part), then the real values, each sorted. */
function cplxreal(values: Complex[]): { complex: Complex[]; real: number[] } {
  const tol = 100 * Number.EPSILON;
  const sorted = [...values].sort((a, b) => a[0] - b[0] || Math.abs(a[1]) - Math.abs(b[1]));
  const isReal = (v: Complex) => Math.abs(v[1]) <= tol * abs(v);
  const real = sorted.filter(isReal).map((v) => v[0]);
  const rest = sorted.filter((v) => !isReal(v));
  const positive = rest.filter((v) => v[1] > 0);
  const negative = rest.filter((v) => v[1] < 0);
  if (positive.length !== negative.length) {
    throw new ParameterError("Cannot design filter: poles or zeros are not in conjugate pairs");
  }
  // Within runs of (nearly) equal real part, sort by |imaginary part|.
  const sortRuns = (list: Complex[]) => {
    let start = 0;
    for (let i = 1; i <= list.length; i++) {
      if (i === list.length || !(list[i][0] - list[i - 1][0] <= tol * abs(positive[i - 1]))) {
        const run = list.slice(start, i).sort((a, b) => Math.abs(a[1]) - Math.abs(b[1]));
        list.splice(start, run.length, ...run);
        start = i;
      }
    }
  };
  sortRuns(positive);
  sortRuns(negative);
  const complex = positive.map((p, i): Complex => [(p[0] + negative[i][0]) / 2, (p[1] - negative[i][1]) / 2]);
  return { complex, real };
}

/** scipy `_nearest_real_complex_idx`. */
function nearestIndex(from: Complex[], to: Complex, which: "any" | "real" | "complex"): number {
  const order = from.map((_, i) => i).sort((i, j) => abs(sub(from[i], to)) - abs(sub(from[j], to)) || i - j);
  if (which === "any") return order[0];
  const found = order.find((i) => (from[i][1] === 0) === (which === "real"));
  if (found === undefined) throw new ParameterError("Cannot design filter: no zero to pair with a pole");
  return found;
}

/** Coefficients of Π(x − r) for up to two roots, right-aligned in three slots (scipy `_single_zpksos`). */
function quadratic(roots: Complex[]): [number, number, number] {
  if (roots.length === 0) return [0, 0, 1];
  if (roots.length === 1) return [0, 1, -roots[0][0]];
  const [r1, r2] = roots;
  const s = add(r1, r2), p = mul(r1, r2);
  return [1, -s[0], p[0]];
}

/** scipy `zpk2sos(z, p, k)` with the default "nearest" pairing for digital filters. */
function zpkToSos({ zeros, poles, gain }: Zpk): Float64Array {
  let z = [...zeros], p = [...poles];
  while (z.length < p.length) z.push([0, 0]);
  while (p.length < z.length) p.push([0, 0]);
  const sections = (Math.max(p.length, z.length) + 1) >> 1;
  if (p.length % 2 === 1) {
    p.push([0, 0]);
    z.push([0, 0]);
  }
  const toList = (v: { complex: Complex[]; real: number[] }): Complex[] => [
    ...v.complex,
    ...v.real.map((r): Complex => [r, 0]),
  ];
  z = toList(cplxreal(z));
  p = toList(cplxreal(p));
  const isReal = (v: Complex) => v[1] === 0;
  const worst = (list: Complex[]) => {
    let best = 0;
    for (let i = 1; i < list.length; i++) {
      if (Math.abs(1 - abs(list[i])) < Math.abs(1 - abs(list[best]))) best = i;
    }
    return best;
  };
  const take = (list: Complex[], i: number) => list.splice(i, 1)[0];
  const sos = new Float64Array(6 * sections);
  const put = (si: number, zs: Complex[], ps: Complex[]) => {
    sos.set([...quadratic(zs), ...quadratic(ps)], 6 * si);
  };
  for (let si = sections - 1; si >= 0; si--) {
    const p1 = take(p, worst(p));
    const realPolesLeft = p.filter(isReal).length;
    if (isReal(p1) && realPolesLeft === 0) {
      const z1 = take(z, nearestIndex(z, p1, "real"));
      put(si, [z1, [0, 0]], [p1, [0, 0]]);
    } else if (p.length + 1 === z.length && !isReal(p1) && realPolesLeft === 1 && z.filter(isReal).length === 1) {
      const z1 = take(z, nearestIndex(z, p1, "complex"));
      put(si, [z1, [z1[0], -z1[1]]], [p1, [p1[0], -p1[1]]]);
    } else {
      let p2: Complex;
      if (isReal(p1)) {
        const realIdx = p.map((v, i) => (isReal(v) ? i : -1)).filter((i) => i >= 0);
        p2 = take(p, realIdx[worst(realIdx.map((i) => p[i]))]);
      } else p2 = [p1[0], -p1[1]];
      if (z.length > 0) {
        const z1 = take(z, nearestIndex(z, p1, "any"));
        if (!isReal(z1)) put(si, [z1, [z1[0], -z1[1]]], [p1, p2]);
        else if (z.length > 0) put(si, [z1, take(z, nearestIndex(z, p1, "real"))], [p1, p2]);
        else put(si, [z1], [p1, p2]);
      } else put(si, [], [p1, p2]);
    }
  }
  for (let i = 0; i < 3; i++) sos[i] *= gain;
  return sos;
}

/**
 * Designs a digital Butterworth filter as second-order sections, coefficient for coefficient
 * what scipy's `butter(order, …, fs=sampleRate, output="sos")` returns.
 * - `0 < lowHz < highHz < sampleRate / 2`: band-pass, `order` sections (2·order poles).
 * - `lowHz ≤ 0`: low-pass at `highHz`; `highHz ≥ sampleRate / 2` (e.g. `Infinity`): high-pass at
 *   `lowHz`; `ceil(order / 2)` sections.
 * @param order Prototype order, an integer in 1 … 32; the band-pass roll-off is 6·order dB/octave on each side.
 * @param lowHz Lower −3 dB edge, Hz.
 * @param highHz Upper −3 dB edge, Hz.
 * @param sampleRate Hz, > 0.
 * @returns Sections back to back, 6 numbers each `[b0, b1, b2, a0, a1, a2]` with `a0 = 1`; the
 *   overall gain is folded into the first section's b.
 * @example Usage
 * ```ts
 * const sos = butterworthSos(4, 25, 400, 4000);
 * assertEquals(sos.length, 4 * 6);
 * ```
 */
export function butterworthSos(order: number, lowHz: number, highHz: number, sampleRate: number): Float64Array {
  if (!Number.isInteger(order) || order < 1 || order > 32) {
    throw new ParameterError(`Cannot design filter: order is ${order}, expected an integer in 1 … 32`);
  }
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new ParameterError(`Cannot design filter: sample rate is ${sampleRate}`);
  }
  const nyquist = sampleRate / 2;
  const low = lowHz > 0, high = highHz < nyquist;
  if (Number.isNaN(lowHz) || Number.isNaN(highHz) || (!low && !high) || (low && high && !(lowHz < highHz))) {
    throw new ParameterError(
      `Cannot design filter: band ${lowHz}–${highHz} Hz, expected 0 ≤ lowHz < highHz ≤ ${nyquist} Hz with a band edge inside`,
    );
  }
  // Pre-warped analog edges (scipy normalises to fs = 2: w = 4·tan(π·f/sampleRate)).
  const warp = (f: number) => 4 * Math.tan(Math.PI * (f / nyquist) / 2);
  // Analog prototype: poles −exp(iπm/(2N)), m = −N+1, −N+3, …, N−1.
  const proto: Complex[] = [];
  for (let m = -order + 1; m < order; m += 2) {
    const theta = Math.PI * m / (2 * order);
    proto.push([-Math.cos(theta), -Math.sin(theta)]);
  }
  let analog: Zpk;
  if (low && high) {
    const w1 = warp(lowHz), w2 = warp(highHz);
    const wo = Math.sqrt(w1 * w2), bw = w2 - w1;
    const woSq: Complex = [wo * wo, 0];
    const lp = proto.map((v) => scale(v, bw / 2));
    const poles = [
      ...lp.map((v) => add(v, sqrt(sub(mul(v, v), woSq)))),
      ...lp.map((v) => sub(v, sqrt(sub(mul(v, v), woSq)))),
    ];
    analog = { zeros: proto.map((): Complex => [0, 0]), poles, gain: bw ** order };
  } else if (high) {
    const wo = warp(highHz);
    analog = { zeros: [], poles: proto.map((v) => scale(v, wo)), gain: wo ** order };
  } else {
    const wo = warp(lowHz);
    let prod: Complex = [1, 0];
    for (const v of proto) prod = mul(prod, scale(v, -1));
    analog = {
      zeros: proto.map((): Complex => [0, 0]),
      poles: proto.map((v) => div([wo, 0], v)),
      gain: div([1, 0], prod)[0],
    };
  }
  // Bilinear transform with fs = 2 (scipy bilinear_zpk): s → (4 + s) / (4 − s).
  const fs2: Complex = [4, 0];
  const bilinear = (v: Complex) => div(add(fs2, v), sub(fs2, v));
  let num: Complex = [1, 0], den: Complex = [1, 0];
  for (const v of analog.zeros) num = mul(num, sub(fs2, v));
  for (const v of analog.poles) den = mul(den, sub(fs2, v));
  const zeros = analog.zeros.map(bilinear);
  for (let i = analog.zeros.length; i < analog.poles.length; i++) zeros.push([-1, 0]);
  const digital = { zeros, poles: analog.poles.map(bilinear), gain: analog.gain * div(num, den)[0] };
  return zpkToSos(digital);
}

function checkSos(sos: Float64Array): number {
  if (!(sos instanceof Float64Array) || sos.length === 0 || sos.length % 6 !== 0) {
    throw new ParameterError(`Cannot filter audio: sos has ${sos?.length} coefficients, expected 6 per section`);
  }
  for (let s = 0; s < sos.length; s += 6) {
    if (sos[s + 3] !== 1) {
      throw new ParameterError(`Cannot filter audio: section ${s / 6} has a0 = ${sos[s + 3]}, expected 1`);
    }
  }
  return sos.length / 6;
}

/** In-place cascade in float64, transposed direct form II, optional initial states (2 per section).
 * Sections run two at a time in one sweep (the second takes the first's output sample by sample): the same
 * arithmetic in the same order as one sweep per section, but two independent recurrences overlap in the CPU. */
function runSos(x: Float64Array, sos: Float64Array, zi?: Float64Array, initial = 1): void {
  const sections = sos.length / 6;
  let s = 0;
  for (; s + 1 < sections; s += 2) {
    // indexed loads, not array destructuring: that runs the iterator protocol, which V8 then has to compile too
    const at = 6 * s;
    const b0 = sos[at], b1 = sos[at + 1], b2 = sos[at + 2], a1 = sos[at + 4], a2 = sos[at + 5];
    const c0 = sos[at + 6], c1 = sos[at + 7], c2 = sos[at + 8], d1 = sos[at + 10], d2 = sos[at + 11];
    let z0 = zi ? zi[2 * s] * initial : 0, z1 = zi ? zi[2 * s + 1] * initial : 0;
    let w0 = zi ? zi[2 * s + 2] * initial : 0, w1 = zi ? zi[2 * s + 3] * initial : 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      const y = b0 * xi + z0;
      z0 = b1 * xi - a1 * y + z1;
      z1 = b2 * xi - a2 * y;
      const v = c0 * y + w0;
      w0 = c1 * y - d1 * v + w1;
      w1 = c2 * y - d2 * v;
      x[i] = v;
    }
  }
  for (; s < sections; s++) {
    const at = 6 * s;
    const b0 = sos[at], b1 = sos[at + 1], b2 = sos[at + 2], a1 = sos[at + 4], a2 = sos[at + 5];
    let z0 = zi ? zi[2 * s] * initial : 0, z1 = zi ? zi[2 * s + 1] * initial : 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      const y = b0 * xi + z0;
      z0 = b1 * xi - a1 * y + z1;
      z1 = b2 * xi - a2 * y;
      x[i] = y;
    }
  }
}

/**
 * Runs samples through a cascade of second-order sections from rest (scipy `sosfilt`), in float64.
 * @param samples Input samples (any finite values).
 * @param sos Sections as returned by {@linkcode butterworthSos}, `a0 = 1` in each.
 * @returns The filtered samples, same length, as float32.
 * @example Usage
 * ```ts
 * const y = sosFilter(new Float32Array([1, 0, 0]), new Float64Array([0.5, 0.5, 0, 1, 0, 0]));
 * assertEquals([...y], [0.5, 0.5, 0]);
 * ```
 */
export function sosFilter(samples: Float32Array, sos: Float64Array): Float32Array {
  checkSos(sos);
  const x = Float64Array.from(samples);
  runSos(x, sos);
  return Float32Array.from(x);
}

/** scipy `sosfilt_zi`: per-section states of the step response's steady state. */
function sosSteadyState(sos: Float64Array): Float64Array {
  const zi = new Float64Array(2 * (sos.length / 6));
  let gain = 1;
  for (let s = 0; s < sos.length / 6; s++) {
    const [b0, b1, b2, , a1, a2] = sos.subarray(6 * s, 6 * s + 6);
    const B0 = b1 - a1 * b0, B1 = b2 - a2 * b0;
    const z0 = (B0 + B1) / (1 + a1 + a2);
    zi[2 * s] = gain * z0;
    zi[2 * s + 1] = gain * (B1 - a2 * z0);
    gain *= (b0 + b1 + b2) / (1 + a1 + a2);
  }
  return zi;
}

/**
 * Zero-phase filtering, forward then backward (scipy `sosfiltfilt` with its defaults: odd
 * extension of `3·(2·sections + 1 − trailing zero coefficients)` samples at both ends and
 * steady-state initial conditions). The magnitude response is the filter's, squared; no delay.
 * @param samples More samples than the padding (27 for a 4th-order band-pass).
 * @param sos Sections as returned by {@linkcode butterworthSos}.
 * @example Usage
 * ```ts
 * const sos = butterworthSos(2, 25, 400, 4000);
 * assertEquals(sosFiltFilt(new Float32Array(100), sos).length, 100);
 * ```
 */
export function sosFiltFilt(samples: Float32Array, sos: Float64Array): Float32Array {
  const sections = checkSos(sos);
  let zeroB2 = 0, zeroA2 = 0;
  for (let s = 0; s < sections; s++) {
    if (sos[6 * s + 2] === 0) zeroB2++;
    if (sos[6 * s + 5] === 0) zeroA2++;
  }
  const edge = 3 * (2 * sections + 1 - Math.min(zeroB2, zeroA2));
  const n = samples.length;
  if (n <= edge) {
    throw new ParameterError(`Cannot filter audio: ${n} samples, zero-phase filtering needs more than ${edge}`);
  }
  const ext = new Float64Array(n + 2 * edge);
  for (let i = 0; i < edge; i++) ext[i] = 2 * samples[0] - samples[edge - i];
  for (let i = 0; i < n; i++) ext[edge + i] = samples[i];
  for (let i = 0; i < edge; i++) ext[edge + n + i] = 2 * samples[n - 1] - samples[n - 2 - i];
  const zi = sosSteadyState(sos);
  runSos(ext, sos, zi, ext[0]);
  ext.reverse();
  runSos(ext, sos, zi, ext[0]);
  ext.reverse();
  return Float32Array.from(ext.subarray(edge, edge + n));
}

/** Options of {@linkcode bandpass}. */
export interface BandpassOptions {
  /** Lower −3 dB edge in Hz; ≤ 0 makes a low-pass. @default {25} */
  lowHz?: number;
  /** Upper −3 dB edge in Hz; ≥ Nyquist (e.g. `Infinity`) makes a high-pass. @default {400} */
  highHz?: number;
  /** Butterworth prototype order (band-pass: 2·order poles). @default {4} */
  order?: number;
  /** Forward–backward filtering (no phase shift, squared magnitude response) as scipy
   * `sosfiltfilt`; otherwise one causal pass as `sosfilt`. @default {true} */
  zeroPhase?: boolean;
}

/** Filters {@linkcode bandpass} designed, by order, edges and rate (the classifier filters every recording with the
 * same two): designing one costs as much as filtering a second of audio. Read only. */
const designs = new Map<string, Float64Array>();
const MAX_DESIGNS = 16;

/**
 * Butterworth band-pass of a waveform; heart sounds live roughly in 25–400 Hz.
 * @param wave Mono samples, all finite; with `zeroPhase`, more than `6·order + 3` samples.
 * @returns A new waveform at the same rate and length.
 * @example Usage
 * ```ts
 * const wave = { samples: new Float32Array(4000).fill(1), sampleRate: 4000 };
 * const y = bandpass(wave);
 * assert(Math.abs(y.samples[2000]) < 1e-3); // DC is removed
 * ```
 */
export function bandpass(wave: Waveform, options: BandpassOptions = {}): Waveform {
  assertValidAudio(wave, "filter audio");
  const lowHz = options.lowHz ?? 25;
  const highHz = options.highHz ?? 400;
  const order = options.order ?? 4;
  const key = `${order} ${lowHz} ${highHz} ${wave.sampleRate}`;
  let sos = designs.get(key);
  if (!sos) {
    sos = butterworthSos(order, lowHz, highHz, wave.sampleRate);
    if (designs.size >= MAX_DESIGNS) designs.delete(designs.keys().next().value!);
    designs.set(key, sos);
  }
  const samples = (options.zeroPhase ?? true) ? sosFiltFilt(wave.samples, sos) : sosFilter(wave.samples, sos);
  return { samples, sampleRate: wave.sampleRate };
}
