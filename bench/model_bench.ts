/**
 * Inference latency of the shipped model (models/) per recording: preprocessing (resample,
 * band-pass, log-mel, windows) and prediction, separately and together (`predictWaveform`),
 * for a 10 s set_b-like recording (4 kHz) and a 9 s set_a-like one (44.1 kHz), on the wasm
 * and the cpu backend side by side; and the second stage (lib/stack.ts: hand features, trees,
 * combination) when models/ ships one.
 *
 * `deno bench -A bench/model_bench.ts`
 * @module
 */
import { loadTf } from "../lib/tf.ts";
import { loadModel, predictWaveform } from "../lib/model.ts";
import { preprocess } from "../lib/preprocess.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { handFeatures } from "../lib/handfeatures.ts";
import { loadStack, predictTreeEnsemble } from "../lib/stack.ts";
import { denoReadFile, readModelFolder } from "../lib/model_folder.ts";

await loadTf({ backend: "cpu" }); // starts the cpu backend once (and silences its banner)
const tf = await loadTf();
const loaded = await loadModel(tf, new URL("../models/", import.meta.url));
const waves = {
  "10 s at 4 kHz": synthesizeHeartSound({ seed: 1, sampleRate: 4000, durationS: 10, kind: "murmur" }),
  "9 s at 44.1 kHz": synthesizeHeartSound({ seed: 2, sampleRate: 44100, durationS: 9, kind: "normal" }),
};
const inputs = Object.fromEntries(
  Object.entries(waves).map(([name, w]) => [name, preprocess(w, loaded.preprocessing)]),
);

for (const [name, wave] of Object.entries(waves)) {
  const w = { samples: wave.samples, sampleRate: wave.sampleRate };
  Deno.bench(`preprocess, ${name}`, { group: `stages ${name}` }, () => {
    preprocess(w, loaded.preprocessing);
  });
  for (const backend of ["wasm", "cpu"] as const) {
    Deno.bench(
      `predict (${backend}), ${name}`,
      { group: `stages ${name}`, baseline: backend === "wasm" },
      async (b) => {
        await tf.setBackend(backend);
        const input = inputs[name];
        b.start();
        tf.tidy(() =>
          (loaded.model.predict(tf.tensor(input.data, input.shape)) as ReturnType<typeof tf.tensor>).dataSync()
        );
        b.end();
      },
    );
    Deno.bench(
      `predictWaveform (${backend}), ${name}`,
      { group: `end to end ${name}`, baseline: backend === "wasm" },
      async (b) => {
        await tf.setBackend(backend);
        b.start();
        predictWaveform(tf, loaded, w);
        b.end();
      },
    );
  }
}

const folder = await readModelFolder(new URL("../models/model.json", import.meta.url), denoReadFile);
const stack = folder.stack ? loadStack(folder.stack) : null;
if (stack) {
  await tf.setBackend("wasm");
  for (const [name, wave] of Object.entries(waves)) {
    const w = { samples: wave.samples, sampleRate: wave.sampleRate };
    const features = handFeatures(w);
    Deno.bench(`hand features, ${name}`, { group: `stack ${name}` }, () => {
      handFeatures(w);
    });
    Deno.bench(`trees, ${name}`, { group: `stack ${name}` }, () => {
      predictTreeEnsemble(stack.trees, features);
    });
    Deno.bench(`predictWaveform with stack (wasm), ${name}`, { group: `end to end ${name}` }, () => {
      predictWaveform(tf, { ...loaded, stack }, w);
    });
  }
}
