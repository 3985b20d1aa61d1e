/**
 * Irregular rhythm without a period prior: premature beats (an early beat, then a compensatory pause) found from the
 * heart sounds alone. {@linkcode detectHeartSounds} fits sounds to one expected cycle and so smooths early beats
 * away; this detector assumes no cycle length.
 *
 * 1. Sounds: the Shannon-energy envelope of {@linkcode shannonEnvelope} (band-pass 25–400 Hz), its local maxima above
 *    a floor relative to the loudest sounds, strongest first, each suppressing weaker maxima within a refractory
 *    period (no two heart sounds of one beat are closer), then refined on the full-rate envelope.
 * 2. Cycles: with S1 and S2 both detected, the gap from each sound to the sound after next is one cardiac cycle
 *    whichever of the two it starts on, so no labelling of S1/S2 is needed. When consecutive gaps are even instead
 *    of alternating short and long (only one sound per cycle is loud enough, or at high rates S1 and S2 are evenly
 *    spaced), the cycle is taken from each sound to the next.
 * 3. Deviation: each cycle against the median of its neighbours (a local median follows slow changes of rate such
 *    as sinus arrhythmia). A cycle shorter than (1 − θ) times it ends on an early sound, a longer one than (1 + θ)
 *    times on a late one.
 * 4. Premature beat: a short cycle followed, one cycle later, by a long one (the compensatory pause). The short
 *    cycle's end is the early beat, the long one's end the late beat; the S2 of the same beat repeats the pattern one
 *    sound later and is merged with it. (With one sound per cycle, "one cycle later" is the next sound.)
 *
 * Score: each premature beat counts with the evidence c = min(1, s / (2θ)), s = min(shortfall, excess) of its two
 * cycles relative to the local median (so c ≥ 0.5, and c = 1 from a 2θ deviation both ways); the score is
 * 1 − Π(1 − c) over the recording's premature beats: 0 with none, ≥ 0.5 with one, near 1 with one clear or two
 * borderline ones.
 * @module
 */
import { type Envelope, type EnvelopeOptions, kthSmallest, MIN_BEATS_DURATION_S, shannonEnvelope } from "./beats.ts";
import { ParameterError } from "./errors.ts";
import { assertValidAudio, type Waveform } from "./types.ts";

/** Options of {@linkcode irregularRhythm}. */
export interface RhythmOptions extends EnvelopeOptions {
  /** Shortest gap between two detected sounds, in seconds, ≥ 0. @default {0.2} */
  refractoryS?: number;
  /** Floor of a sound's envelope peak, as a fraction of the envelope's 99th percentile (both above its median), in [0, 1]. @default {0.35} */
  peakFloor?: number;
  /** Relative deviation θ from the local median cycle that makes a cycle short or long, in (0, 1). @default {0.15} */
  deviation?: number;
  /** Number of neighbouring cycles on each side whose median is the local reference, ≥ 1. @default {4} */
  neighbours?: number;
  /** Count a short-then-long pair only when the cycle before it is not short and the one after it not long, as
   * around a premature beat (sinus arrhythmia shortens and lengthens runs of cycles). @default {true} */
  isolated?: boolean;
}

/** One detected heart sound. */
export interface RhythmBeat {
  /** Centre of the sound, seconds from the start. */
  timeS: number;
  /** The cycle ending at this sound (from the sound before last), in seconds; NaN for the first two sounds. */
  intervalS: number;
  /** The cycle ending here is shorter than the local median by more than θ. */
  early: boolean;
  /** The cycle ending here is longer than the local median by more than θ. */
  late: boolean;
}

/** What {@linkcode irregularRhythm} finds. */
export interface IrregularRhythm {
  /** Evidence of premature beats, 0–1 (see the module doc for the mapping); 0 when fewer than 5 sounds are found. */
  score: number;
  /** Every detected sound, ascending in time. */
  beats: RhythmBeat[];
  /** Premature beats (a short cycle followed by a compensatory pause), in seconds. */
  earlyBeatTimesS: number[];
  /** The beats ending each compensatory pause, in seconds (one per early beat). */
  lateBeatTimesS: number[];
}

function noEvents(beats: RhythmBeat[] = []): IrregularRhythm {
  return { score: 0, beats, earlyBeatTimesS: [], lateBeatTimesS: [] };
}

/** Fewest sounds for which a cycle can be compared with neighbours on both sides. */
const MIN_SOUNDS = 5;

/** Quantile of the envelope that stands for a loud heart sound. */
const LOUD_QUANTILE = 0.99;

/** Largest median change between consecutive gaps, relative to the median gap, for which they count as even. */
const EVEN_GAPS = 0.15;

/** Half-width of the search for the full-rate energy maximum around each envelope peak, in seconds. */
const REFINE_S = 0.02;

function option(value: number | undefined, fallback: number, ok: (v: number) => boolean, name: string): number {
  const v = value ?? fallback;
  if (!ok(v)) throw new ParameterError(`Cannot assess rhythm: ${name} is ${v}, out of range`);
  return v;
}

/** Median of `x[from, to)` without `x[skip]`, copying into `scratch`. */
function localMedian(x: Float64Array, from: number, to: number, skip: number, scratch: Float64Array): number {
  let n = 0;
  for (let i = from; i < to; i++) if (i !== skip && Number.isFinite(x[i])) scratch[n++] = x[i];
  if (n === 0) return NaN;
  const view = scratch.subarray(0, n);
  const hi = kthSmallest(view, n >> 1);
  if (n % 2) return hi;
  let lo = -Infinity;
  for (let i = 0; i < n >> 1; i++) lo = Math.max(lo, view[i]);
  return (lo + hi) / 2;
}

/** Sound centres in seconds: refractory-suppressed envelope maxima above the floor, refined on the full-rate envelope. */
export function detectSounds(env: Envelope, refractoryS: number, peakFloor: number): number[] {
  const v = env.values;
  if (env.silent || v.length < 3) return [];
  const maxima: number[] = [];
  for (let k = 1; k < v.length - 1; k++) if (v[k] > v[k - 1] && v[k] >= v[k + 1]) maxima.push(k);
  if (maxima.length === 0) return [];
  // The floor is relative to the envelope's background (its median: sounds fill far less than half of any
  // recording) and to its loud part (they fill more than 1 %), so neither an offset, noise nor its maxima move it.
  const sorted = Float64Array.from(v).sort();
  const background = sorted[sorted.length >> 1];
  const loud = sorted[Math.floor(LOUD_QUANTILE * (sorted.length - 1))] - background;
  const candidates = maxima.filter((k) => v[k] - background >= peakFloor * loud).sort((a, b) => v[b] - v[a]);
  const gap = Math.round(refractoryS * env.rate);
  const taken = new Uint8Array(v.length);
  const kept: number[] = [];
  for (const k of candidates) {
    let free = true;
    for (let j = Math.max(0, k - gap + 1); j < Math.min(v.length, k + gap); j++) {
      if (taken[j]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    taken[k] = 1;
    kept.push(k);
  }
  kept.sort((a, b) => a - b);
  const w = Math.round(REFINE_S * env.fineRate);
  return kept.map((k) => {
    const c = Math.round(k / env.rate * env.fineRate);
    let best = c, bestValue = -Infinity;
    for (let i = Math.max(0, c - w); i <= Math.min(env.fine.length - 1, c + w); i++) {
      if (env.fine[i] > bestValue) {
        bestValue = env.fine[i];
        best = i;
      }
    }
    return best / env.fineRate;
  });
}

/** Sounds per cycle: 1 when consecutive gaps are even (only S1s found, or S1 and S2 evenly spaced at high rates),
 * else 2 (S1 and S2 alternate a short systole with a longer diastole). */
function cycleLag(times: number[]): 1 | 2 {
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const steps = gaps.slice(1).map((g, i) => Math.abs(g - gaps[i]));
  const median = (x: number[]) => x.toSorted((a, b) => a - b)[x.length >> 1];
  return median(steps) < EVEN_GAPS * median(gaps) ? 1 : 2;
}

/**
 * Premature beats and their compensatory pauses from an envelope (see the module doc); for callers that already
 * computed {@linkcode shannonEnvelope}.
 */
export function irregularRhythmFromEnvelope(env: Envelope, options: RhythmOptions = {}): IrregularRhythm {
  const refractoryS = option(options.refractoryS, 0.2, (v) => v >= 0 && v < 5, "refractoryS");
  const peakFloor = option(options.peakFloor, 0.35, (v) => v >= 0 && v <= 1, "peakFloor");
  const theta = option(options.deviation, 0.15, (v) => v > 0 && v < 1, "deviation");
  const neighbours = option(options.neighbours, 4, (v) => Number.isInteger(v) && v >= 1, "neighbours");
  const isolated = options.isolated ?? true;
  const times = detectSounds(env, refractoryS, peakFloor);
  const n = times.length;
  if (n < MIN_SOUNDS) return noEvents(times.map((timeS) => ({ timeS, intervalS: NaN, early: false, late: false })));
  const lag = cycleLag(times);
  // cycle[k]: from sound k to sound k + lag; rel[k]: its deviation from the local median of the others.
  const m = n - lag;
  const cycle = new Float64Array(m);
  for (let k = 0; k < m; k++) cycle[k] = times[k + lag] - times[k];
  const rel = new Float64Array(m);
  const scratch = new Float64Array(2 * neighbours + 1);
  for (let k = 0; k < m; k++) {
    const median = localMedian(cycle, Math.max(0, k - neighbours), Math.min(m, k + neighbours + 1), k, scratch);
    rel[k] = median > 0 ? cycle[k] / median - 1 : 0;
  }
  const beats: RhythmBeat[] = times.map((timeS, i) => ({
    timeS,
    intervalS: i >= lag ? cycle[i - lag] : NaN,
    early: i >= lag && rel[i - lag] < -theta,
    late: i >= lag && rel[i - lag] > theta,
  }));
  const earlyBeatTimesS: number[] = [], lateBeatTimesS: number[] = [];
  let survival = 1;
  // Isolated: the cycle before the short one is not short too, the one after the long one not long too (sinus
  // arrhythmia shortens and lengthens runs of cycles; a second premature beat right after the pause is allowed).
  const notShort = (k: number) => k < 0 || rel[k] >= -theta;
  const notLong = (k: number) => k >= m || rel[k] <= theta;
  const premature = (k: number) =>
    k >= 0 && k + lag < m && rel[k] < -theta && rel[k + lag] > theta &&
    (!isolated || (notShort(k - lag) && notLong(k + 2 * lag)));
  for (let k = 0; k + lag < m; k++) {
    // With two sounds per cycle the premature beat's second sound repeats the pattern one sound later: keep the first.
    if (!premature(k) || premature(k - 1)) continue;
    earlyBeatTimesS.push(times[k + lag]);
    lateBeatTimesS.push(times[k + 2 * lag]);
    const strength = Math.min(-rel[k], rel[k + lag]);
    survival *= 1 - Math.min(1, strength / (2 * theta));
  }
  return { score: 1 - survival, beats, earlyBeatTimesS, lateBeatTimesS };
}

/**
 * Irregular rhythm of a recording: a 0–1 score of premature-beat evidence and the times of early and late beats,
 * from a sound detector without a period prior (see the module doc).
 * @param wave Mono waveform, all samples finite, any sample rate (the envelope resamples to 2 kHz).
 * @param options See {@linkcode RhythmOptions}.
 * @returns Score 0 and no events when fewer than 5 sounds are found (silence) or the clip is shorter than
 *   {@linkcode MIN_BEATS_DURATION_S}.
 * @example Usage
 * ```ts
 * const silent = { samples: new Float32Array(8000), sampleRate: 4000 };
 * assertEquals(irregularRhythm(silent).score, 0);
 * ```
 */
export function irregularRhythm(wave: Waveform, options: RhythmOptions = {}): IrregularRhythm {
  assertValidAudio(wave, "assess rhythm");
  if (wave.samples.length / wave.sampleRate < MIN_BEATS_DURATION_S) return noEvents();
  return irregularRhythmFromEnvelope(shannonEnvelope(wave, options), options);
}
