/** Fixtures of the inference tests: a tiny model with a known answer, and good and bad WAV files. */
import { synthesizeHeartSound, type SynthKind } from "../lib/synth.ts";
import { encodeWav, type EncodeWavOptions } from "../lib/wav.ts";
import { loadTf } from "../lib/tf.ts";

const tf = await loadTf({ backend: "cpu", verbose: false }); // the backend lib/classifier.ts uses

/** The repository root, as a path. */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
/** The shipped model's folder. */
export const SHIPPED_MODEL_DIR = `${ROOT}/models`;

/** The first `batch_input_shape` in a layers model.json topology (the model's input shape). */
function inputShapeOf(node: unknown): (number | null)[] | undefined {
  if (node === null || typeof node !== "object") return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = inputShapeOf(item);
      if (found) return found;
    }
    return undefined;
  }
  const record = node as Record<string, unknown>;
  if (Array.isArray(record.batch_input_shape)) return record.batch_input_shape as (number | null)[];
  for (const value of Object.values(record)) {
    const found = inputShapeOf(value);
    if (found) return found;
  }
  return undefined;
}

/** Softmax of a vector, in float64. */
export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/**
 * Writes a model whose output ignores its input: Flatten → Dense(k) with a zero kernel and the given
 * bias, so every recording gets probabilities softmax(bias). It takes the shipped model's input shape
 * and preprocessing.json (optionally edited), so the real preprocessing runs in front of it.
 * @returns The folder (with model.json, weights.bin, preprocessing.json).
 */
export async function writeConstantModel(
  dir: string,
  bias: number[],
  editPreprocessing: (p: Record<string, unknown>) => void = () => {},
): Promise<string> {
  const shipped = JSON.parse(await Deno.readTextFile(`${SHIPPED_MODEL_DIR}/model.json`));
  const preprocessing = JSON.parse(await Deno.readTextFile(`${SHIPPED_MODEL_DIR}/preprocessing.json`));
  const shape = inputShapeOf(shipped.modelTopology);
  if (!shape) throw new Error("shipped model.json has no batch_input_shape");
  delete preprocessing.stack; // no second stage unless the test adds one (the shipped model's stack.json is not copied)
  delete preprocessing.members; // one set of weights unless the test adds members (the shipped members are not copied)
  delete preprocessing.name; // not the shipped model: unnamed and unversioned unless the test names it
  delete preprocessing.modelVersion;
  editPreprocessing(preprocessing);
  await Deno.mkdir(dir, { recursive: true });
  const model = tf.sequential();
  const inputShape = shape.slice(1) as number[];
  if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
  model.add(
    tf.layers.dense({ units: bias.length, activation: "softmax", ...(inputShape.length > 1 ? {} : { inputShape }) }),
  );
  const dense = model.layers[model.layers.length - 1];
  const [kernel] = dense.getWeights();
  tf.tidy(() => dense.setWeights([tf.zerosLike(kernel), tf.tensor1d(bias)]));
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array(artifacts.weightData as ArrayBuffer));
    await Deno.writeTextFile(
      `${dir}/model.json`,
      JSON.stringify({
        format: "layers-model",
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      }),
    );
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  model.dispose();
  await Deno.writeTextFile(`${dir}/preprocessing.json`, JSON.stringify(preprocessing));
  return dir;
}

/** A synthetic recording of one class as WAV bytes. */
export function synthWav(
  kind: SynthKind,
  options: { seed?: number; sampleRate?: number; durationS?: number; heartRateBpm?: number } & EncodeWavOptions = {},
): Uint8Array {
  const { bitDepth, encoding, channels, ...synth } = options;
  const rec = synthesizeHeartSound({ kind, seed: 1, durationS: 4, ...synth });
  return encodeWav(rec, { bitDepth, encoding, channels });
}

/** A 16-bit mono WAV header with a data chunk of zero samples. */
export function zeroSampleWav(sampleRate = 4000): Uint8Array {
  const bytes = new Uint8Array(44);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, 0, true);
  return bytes;
}

/** Bad inputs: name → bytes, and the words their error must contain. */
export function badWavs(): { name: string; bytes: Uint8Array; error: RegExp }[] {
  const good = synthWav("normal");
  return [
    { name: "not_a_wav.wav", bytes: new TextEncoder().encode("hello, I am a text file\n"), error: /not a RIFF\/WAVE/ },
    { name: "truncated.wav", bytes: good.slice(0, 1000), error: /truncated/ },
    { name: "zero_samples.wav", bytes: zeroSampleWav(), error: /zero samples/ },
    { name: "silence.wav", bytes: encodeWav({ samples: new Float32Array(8000), sampleRate: 4000 }), error: /silent/ },
    { name: "short.wav", bytes: synthWav("normal", { durationS: 0.3 }), error: /shorter than one heartbeat/ },
  ];
}

/**
 * A copy of the shipped model without its quality model (stack.json `quality`) in a new temp folder: no recording is
 * flagged "retake", so the rhythm flag is never withheld (synthetic recordings are retake-flagged by the real one).
 */
export async function shippedModelWithoutQuality(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_noquality_" });
  for await (const entry of Deno.readDir(SHIPPED_MODEL_DIR)) {
    if (entry.isFile && /\.(json|bin)$/.test(entry.name)) {
      await Deno.copyFile(`${SHIPPED_MODEL_DIR}/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  const stack = JSON.parse(await Deno.readTextFile(`${dir}/stack.json`));
  delete stack.quality;
  await Deno.writeTextFile(`${dir}/stack.json`, JSON.stringify(stack));
  return dir;
}
