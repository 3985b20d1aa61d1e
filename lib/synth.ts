/**
 * Seeded synthetic heart sounds with known S1/S2 times, for tests, demos and notebooks when
 * the real recordings are absent. Not a physiological model: each sound is a short damped
 * low-frequency tone burst, chosen so that the four classes differ the way the real ones do.
 *
 * - normal: S1 (40–60 ms, 45–75 Hz) and S2 (25–40 ms, 75–120 Hz, softer) at a steady rate, S2
 *   about 0.3 of the cycle after S1.
 * - murmur: normal plus band-limited noise (roughly 120–400 Hz) filling systole, between the
 *   end of S1 and S2, with a crescendo–decrescendo envelope.
 * - extrahls: normal plus an extra low-frequency sound in every cycle, S3 (early diastole,
 *   110–170 ms after S2) or S4 (60–100 ms before the next S1).
 * - extrastole: normal rhythm with one or more premature beats (at 0.55–0.7 of the interval,
 *   followed by a compensatory pause).
 * Every recording draws its own sound frequencies, loudness ratios and heart-rate jitter from
 * the seed, plus white background noise. For rhythm tests, any class can carry sinus arrhythmia (a
 * slow sinusoidal modulation of the beat interval, as breathing causes) and the prematurity of the
 * extrastole's early beats can be set.
 * @module
 */
import { ParameterError } from "./errors.ts";
import { butterworthSos, sosFiltFilt } from "./filter.ts";
import { gaussian, mulberry32 } from "./rng.ts";
import { CLASS_NAMES, type ClassName, LABEL_IDS } from "./classes.ts";

/** Classes the generator can produce (the four target classes of lib/classes.ts). */
export type SynthKind = ClassName;

/** The label ids of the classes (lib/classes.ts): normal 0, extrahls 1, murmur 2, extrastole 4. */
export const SYNTH_LABEL_IDS: Readonly<Record<SynthKind, number>> = Object.freeze(
  Object.fromEntries(CLASS_NAMES.map((name) => [name, LABEL_IDS[name]])) as Record<SynthKind, number>,
);

/** Options of {@linkcode synthesizeHeartSound}. */
export interface SynthOptions {
  /** Seed of the generator; the same options always give the same samples. @default {0} */
  seed?: number;
  /** Output rate in Hz, an integer ≥ 1000. @default {4000} */
  sampleRate?: number;
  /** Length in seconds, > 0 and ≤ 600. @default {8} */
  durationS?: number;
  /** Mean heart rate, beats per minute, in 30 … 200. @default {72} */
  heartRateBpm?: number;
  /** Which class to produce. @default {"normal"} */
  kind?: SynthKind;
  /** RMS of the white background noise relative to the S1 peak, ≥ 0. @default {0.02} */
  noiseLevel?: number;
  /** Standard deviation of each beat interval, relative to the mean interval, in [0, 0.2]. @default {0.02} */
  heartRateVariability?: number;
  /** S2 onset after S1 onset, as a fraction of the mean cycle, in [0.2, 0.5]. @default {0.3} */
  systoleFraction?: number;
  /** Peak of the murmur relative to the S1 peak (kind murmur only), > 0. @default drawn in [0.3, 0.5] */
  murmurLevel?: number;
  /** Which extra sound (kind extrahls only). @default drawn: S3 or S4 with equal chance */
  extraSound?: "S3" | "S4";
  /** Number of premature beats (kind extrastole only), ≥ 1; fewer when the recording is too short. @default drawn in 1 … 3 */
  prematureBeats?: number;
  /** Where premature beats fall (kind extrastole only), as the [earliest, latest] fraction of the
   * interval they cut short, within [0.3, 0.95]. @default {[0.55, 0.7]} */
  prematurity?: readonly [number, number];
  /** Sinus arrhythmia: relative amplitude of a sinusoidal modulation of the beat interval, in [0, 0.5]
   * (0.1: intervals swing ±10 %). @default {0} */
  sinusArrhythmiaDepth?: number;
  /** Period of the sinus-arrhythmia modulation in seconds (a breathing cycle), > 0. @default {4} */
  sinusArrhythmiaPeriodS?: number;
  /** Phase of the sinus-arrhythmia modulation at time 0, in radians. @default {0} */
  sinusArrhythmiaPhase?: number;
  /** Peak absolute value of the returned samples, in (0, 1]. @default {0.5} */
  peak?: number;
}

/** A synthetic recording with its ground truth. */
export interface SynthRecording {
  /** Mono samples with peak |x| = `peak`. */
  samples: Float32Array;
  /** Hz. */
  sampleRate: number;
  /** The class that was synthesised. */
  label: SynthKind;
  /** The class's label id (see {@linkcode SYNTH_LABEL_IDS}). */
  labelId: number;
  /** The mean heart rate asked for, in beats per minute. */
  heartRateBpm: number;
  /** Onset of each S1 in the recording, seconds, ascending. */
  s1TimesS: number[];
  /** Onset of each S2 in the recording, seconds, ascending. */
  s2TimesS: number[];
  /** Onsets of extra sounds (S3/S4, extrahls only), seconds. */
  extraTimesS: number[];
  /** Indices into `s1TimesS` of the premature beats (extrastole only). */
  prematureBeatIndices: number[];
}

/** Adds a damped tone burst: a Hann-shaped attack over the first 30 %, then exponential decay, with a slight downward chirp. */
function addBurst(
  out: Float64Array,
  sampleRate: number,
  onsetS: number,
  durationS: number,
  freqHz: number,
  amplitude: number,
  phase: number,
): void {
  const start = Math.round(onsetS * sampleRate);
  const length = Math.round(durationS * sampleRate);
  const attack = 0.3 * length;
  let theta = phase;
  for (let i = 0; i < length; i++) {
    const j = start + i;
    const u = i / length;
    const envelope = i < attack ? 0.5 - 0.5 * Math.cos(Math.PI * i / attack) : Math.exp(-4 * (i - attack) / length);
    const taper = u > 0.9 ? 0.5 + 0.5 * Math.cos(Math.PI * (u - 0.9) / 0.1) : 1;
    theta += 2 * Math.PI * freqHz * (1 - 0.2 * u) / sampleRate;
    if (j >= 0 && j < out.length) out[j] += amplitude * envelope * taper * Math.sin(theta);
  }
}

function uniform(rng: () => number, low: number, high: number): number {
  return low + (high - low) * rng();
}

function check(ok: boolean, what: string, value: unknown, expected: string): void {
  if (!ok) throw new ParameterError(`Cannot synthesize heart sound: ${what} is ${value}, expected ${expected}`);
}

/**
 * Synthesises a heart-sound recording of the given class with known S1/S2 onsets.
 * @param options See {@linkcode SynthOptions}; all optional.
 * @returns The samples and their ground truth. Sounds that would start before 0 or run past the end are
 *   left out of the times; a sound cut by the end of the recording is listed if its onset is inside.
 * @example Usage
 * ```ts
 * const rec = synthesizeHeartSound({ seed: 1, kind: "murmur", durationS: 5 });
 * assertEquals(rec.samples.length, 20000);
 * assertEquals(rec.s1TimesS.length >= 5, true); // 72 bpm over 5 s
 * ```
 */
export function synthesizeHeartSound(options: SynthOptions = {}): SynthRecording {
  const seed = options.seed ?? 0;
  const sampleRate = options.sampleRate ?? 4000;
  const durationS = options.durationS ?? 8;
  const heartRateBpm = options.heartRateBpm ?? 72;
  const kind = options.kind ?? "normal";
  const noiseLevel = options.noiseLevel ?? 0.02;
  const hrv = options.heartRateVariability ?? 0.02;
  const systoleFraction = options.systoleFraction ?? 0.3;
  const peak = options.peak ?? 0.5;
  const [earliest, latest] = options.prematurity ?? [0.55, 0.7];
  const saDepth = options.sinusArrhythmiaDepth ?? 0;
  const saPeriodS = options.sinusArrhythmiaPeriodS ?? 4;
  const saPhase = options.sinusArrhythmiaPhase ?? 0;
  check(Number.isFinite(seed), "seed", seed, "a finite number");
  check(Number.isInteger(sampleRate) && sampleRate >= 1000, "sampleRate", sampleRate, "an integer ≥ 1000 Hz");
  check(durationS > 0 && durationS <= 600, "durationS", durationS, "a number in (0, 600] s");
  check(durationS * sampleRate >= 100, "durationS", durationS, `at least 100 samples at ${sampleRate} Hz`);
  check(heartRateBpm >= 30 && heartRateBpm <= 200, "heartRateBpm", heartRateBpm, "a number in 30 … 200");
  check(kind in SYNTH_LABEL_IDS, "kind", kind, "normal, murmur, extrahls or extrastole");
  check(noiseLevel >= 0 && Number.isFinite(noiseLevel), "noiseLevel", noiseLevel, "a finite number ≥ 0");
  check(hrv >= 0 && hrv <= 0.2, "heartRateVariability", hrv, "a number in [0, 0.2]");
  check(systoleFraction >= 0.2 && systoleFraction <= 0.5, "systoleFraction", systoleFraction, "a number in [0.2, 0.5]");
  check(peak > 0 && peak <= 1, "peak", peak, "a number in (0, 1]");
  check(
    earliest >= 0.3 && latest <= 0.95 && earliest <= latest,
    "prematurity",
    `[${earliest}, ${latest}]`,
    "within [0.3, 0.95]",
  );
  check(saDepth >= 0 && saDepth <= 0.5, "sinusArrhythmiaDepth", saDepth, "a number in [0, 0.5]");
  check(saPeriodS > 0 && Number.isFinite(saPeriodS), "sinusArrhythmiaPeriodS", saPeriodS, "a finite number > 0");
  check(Number.isFinite(saPhase), "sinusArrhythmiaPhase", saPhase, "a finite number");

  const rng = mulberry32(seed);
  // Per-recording character, always drawn in the same order (options override draws, never skip them).
  const s1Hz = uniform(rng, 45, 75), s2Hz = uniform(rng, 75, 120);
  const s1DurS = uniform(rng, 0.04, 0.06), s2DurS = uniform(rng, 0.025, 0.04);
  const s2Amp = uniform(rng, 0.5, 0.8);
  const drawn = { murmurLevel: uniform(rng, 0.3, 0.5), s3: rng() < 0.5, premature: 1 + Math.floor(rng() * 3) };
  const murmurLevel = options.murmurLevel ?? drawn.murmurLevel;
  const extraSound = options.extraSound ?? (drawn.s3 ? "S3" : "S4");
  const extraHz = uniform(rng, 25, 45), extraAmp = uniform(rng, 0.45, 0.7), extraDurS = uniform(rng, 0.04, 0.06);
  const s3DelayS = uniform(rng, 0.11, 0.17), s4LeadS = uniform(rng, 0.06, 0.1);
  const prematureWanted = options.prematureBeats ?? drawn.premature;
  check(murmurLevel > 0 && Number.isFinite(murmurLevel), "murmurLevel", murmurLevel, "a finite number > 0");
  check(extraSound === "S3" || extraSound === "S4", "extraSound", extraSound, "S3 or S4");
  check(Number.isInteger(prematureWanted) && prematureWanted >= 1, "prematureBeats", prematureWanted, "an integer ≥ 1");

  // Beat grid: S1 onsets with jittered intervals, starting inside the first cycle.
  const periodS = 60 / heartRateBpm;
  const systoleS = systoleFraction * periodS;
  const beats: number[] = [];
  // Sinus arrhythmia scales each interval by the modulation at the beat that starts it.
  const swing = (t: number) => 1 + saDepth * Math.sin(2 * Math.PI * t / saPeriodS + saPhase);
  for (let t = uniform(rng, 0.05, 0.8) * periodS; t < durationS; t += periodS * swing(t) * (1 + hrv * gaussian(rng))) {
    beats.push(t);
  }
  const premature: number[] = [];
  if (kind === "extrastole") {
    // Candidates: beats with a beat before and after, not next to another premature beat.
    const candidates = beats.map((_, i) => i).filter((i) => i >= 1 && i < beats.length - 1);
    while (premature.length < prematureWanted && candidates.length > 0) {
      const pick = candidates.splice(Math.floor(rng() * candidates.length), 1)[0];
      if (premature.some((p) => Math.abs(p - pick) < 2)) continue;
      premature.push(pick);
    }
    premature.sort((a, b) => a - b);
    for (const i of premature) beats[i] = beats[i - 1] + uniform(rng, earliest, latest) * (beats[i] - beats[i - 1]);
  }

  const n = Math.round(durationS * sampleRate);
  const x = new Float64Array(n);
  const s1TimesS: number[] = [], s2TimesS: number[] = [], extraTimesS: number[] = [];
  const prematureBeatIndices: number[] = [];
  const murmurGate = new Float64Array(kind === "murmur" ? n : 0);
  for (let i = 0; i < beats.length; i++) {
    const s1 = beats[i];
    const isPremature = premature.includes(i);
    const jitter = () => 1 + 0.05 * gaussian(rng);
    const s1Amp = (isPremature ? 0.8 : 1) * jitter();
    addBurst(x, sampleRate, s1, s1DurS, s1Hz * jitter(), s1Amp, rng() * 2 * Math.PI);
    if (isPremature) prematureBeatIndices.push(s1TimesS.length);
    s1TimesS.push(s1);
    const s2 = s1 + systoleS * (isPremature ? 0.9 : 1);
    if (s2 < durationS) {
      addBurst(x, sampleRate, s2, s2DurS, s2Hz * jitter(), s2Amp * jitter(), rng() * 2 * Math.PI);
      s2TimesS.push(s2);
    }
    if (kind === "murmur") {
      const from = Math.round((s1 + s1DurS * 0.8) * sampleRate), to = Math.round(s2 * sampleRate);
      for (let j = Math.max(0, from); j < Math.min(n, to); j++) {
        murmurGate[j] = Math.sin(Math.PI * (j - from) / (to - from)) ** 1.5; // crescendo–decrescendo
      }
    }
    if (kind === "extrahls") {
      const next = i + 1 < beats.length ? beats[i + 1] : s1 + periodS;
      const onset = extraSound === "S3" ? s2 + s3DelayS : next - s4LeadS;
      if (onset >= 0 && onset < durationS && onset > s2 + s2DurS) {
        addBurst(x, sampleRate, onset, extraDurS, extraHz * jitter(), extraAmp * jitter(), rng() * 2 * Math.PI);
        extraTimesS.push(onset);
      }
    }
  }
  // S4 of the first beat precedes it; it may fall inside the recording too.
  if (kind === "extrahls" && extraSound === "S4" && beats.length > 0 && beats[0] - s4LeadS >= 0) {
    addBurst(x, sampleRate, beats[0] - s4LeadS, extraDurS, extraHz, extraAmp, rng() * 2 * Math.PI);
    extraTimesS.unshift(beats[0] - s4LeadS);
  }
  if (kind === "murmur") {
    const noise = Float32Array.from({ length: n }, () => gaussian(rng));
    const band = sosFiltFilt(noise, butterworthSos(3, 120, Math.min(400, 0.4 * sampleRate), sampleRate));
    let power = 0;
    for (let j = 0; j < n; j++) power += band[j] * band[j];
    const gain = murmurLevel / (3 * Math.sqrt(power / n) || 1); // Gaussian noise rarely exceeds 3 σ
    for (let j = 0; j < n; j++) x[j] += gain * murmurGate[j] * band[j];
  }
  for (let j = 0; j < n; j++) x[j] += noiseLevel * gaussian(rng);
  let maxAbs = 0;
  for (let j = 0; j < n; j++) maxAbs = Math.max(maxAbs, Math.abs(x[j]));
  const samples = new Float32Array(n);
  const g = maxAbs > 0 ? peak / maxAbs : 0;
  for (let j = 0; j < n; j++) samples[j] = x[j] * g;
  return {
    samples,
    sampleRate,
    label: kind,
    labelId: SYNTH_LABEL_IDS[kind],
    heartRateBpm,
    s1TimesS,
    s2TimesS,
    extraTimesS,
    prematureBeatIndices,
  };
}
