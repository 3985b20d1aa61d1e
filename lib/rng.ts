/**
 * Seeded pseudo-random numbers. Every random choice in the toolkit (synthetic audio, shuffles,
 * weight initialisation, folds) draws from a generator made here from an explicit seed, so a
 * run is reproducible bit for bit.
 * @module
 */
import { ParameterError } from "./errors.ts";

/**
 * Mulberry32: a small, fast 32-bit PRNG (period 2^32) by Tommy Ettinger.
 * @param seed Any number; it is truncated to an unsigned 32-bit integer (so 1.5 and 1 agree).
 * @returns A function giving uniform numbers in [0, 1), 2^-32 apart; the same seed always
 *   gives the same sequence.
 * @example Usage
 * ```ts
 * const a = mulberry32(42), b = mulberry32(42);
 * assertEquals(a(), b());
 * const x = a();
 * assert(x >= 0 && x < 1);
 * ```
 */
export function mulberry32(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new ParameterError(`Cannot create random generator: seed is ${seed}`);
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One standard normal draw (mean 0, standard deviation 1) by the Box–Muller transform.
 * Consumes exactly two uniforms from `rng` per call (no hidden cached second value, so the
 * stream position depends only on the number of calls).
 * @param rng A uniform [0, 1) generator such as {@linkcode mulberry32}.
 * @example Usage
 * ```ts
 * const rng = mulberry32(1);
 * const z = gaussian(rng);
 * assert(Number.isFinite(z));
 * ```
 */
export function gaussian(rng: () => number): number {
  const u = 1 - rng(); // (0, 1]: log(u) is finite
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Fisher–Yates shuffle of `array` in place, drawing `array.length − 1` uniforms from `rng`.
 * @param array Any array or typed array; it is modified.
 * @param rng A uniform [0, 1) generator such as {@linkcode mulberry32}.
 * @returns The same array, for chaining.
 * @example Usage
 * ```ts
 * const xs = shuffleInPlace([1, 2, 3, 4, 5], mulberry32(7));
 * assertEquals([...xs].sort(), [1, 2, 3, 4, 5]);
 * ```
 */
export function shuffleInPlace<T, A extends { length: number; [i: number]: T }>(array: A, rng: () => number): A {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}
