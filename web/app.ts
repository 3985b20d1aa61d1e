/// <reference lib="dom" />
/**
 * The web page's script (built into dist/app.js by `deno task build`). Everything runs in the page:
 * the WAV is decoded, preprocessed and classified by the same lib/ code as the CLI, through
 * dist/heartbeat.js (the build maps the import below to ./heartbeat.js).
 * @module
 */
import { type ClassifyResult, type HeartSoundClassifier, loadClassifier, readWav } from "../scripts/bundle_entry.ts";

/** Longest microphone recording, in seconds. */
const MAX_RECORDING_S = 30;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Cannot start page: element #${id} is missing`);
  return el;
}

const MODEL_URL = new URL("../models/model.json", document.baseURI);
let classifierPromise: Promise<HeartSoundClassifier> | null = null;

function classifier(): Promise<HeartSoundClassifier> {
  classifierPromise ??= loadClassifier(MODEL_URL);
  return classifierPromise;
}

function setStatus(text: string): void {
  $("status").textContent = text;
}

function showError(message: string): void {
  const el = $("error");
  el.textContent = message;
  el.hidden = false;
  $("result").dataset.state = "error";
  document.body.dataset.state = "error";
}

function clearError(): void {
  $("error").hidden = true;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

// ---------------------------------------------------------------- drawing

function drawWaveform(canvas: HTMLCanvasElement, samples: Float32Array, sampleRate: number, result: ClassifyResult) {
  const dpr = globalThis.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.round(canvas.clientHeight * dpr));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const style = getComputedStyle(document.documentElement);
  ctx.clearRect(0, 0, width, height);
  const durationS = samples.length / sampleRate;
  const marker = (times: number[], color: string) => {
    ctx.fillStyle = color;
    for (const t of times) ctx.fillRect(Math.round((t / durationS) * width), 0, Math.max(1, dpr), height);
  };
  ctx.globalAlpha = 0.5;
  marker(result.s1TimesS, style.getPropertyValue("--s1").trim() || "#b3261e");
  marker(result.s2TimesS, style.getPropertyValue("--s2").trim() || "#1a5fb4");
  ctx.globalAlpha = 1;
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  const scale = peak > 0 ? (height / 2 - 2) / peak : 0;
  ctx.fillStyle = style.getPropertyValue("--fg").trim() || "#1d1b1e";
  const perColumn = samples.length / width;
  for (let x = 0; x < width; x++) {
    const start = Math.floor(x * perColumn);
    const end = Math.max(start + 1, Math.floor((x + 1) * perColumn));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end && i < samples.length; i++) {
      if (samples[i] < lo) lo = samples[i];
      if (samples[i] > hi) hi = samples[i];
    }
    if (lo === Infinity) continue;
    const y0 = height / 2 - hi * scale;
    const y1 = height / 2 - lo * scale;
    ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}

function renderResult(name: string, samples: Float32Array, sampleRate: number, result: ClassifyResult): void {
  const section = $("result");
  section.hidden = false;
  $("file-name").textContent = name;
  $("label").textContent = result.label;
  $("confidence").textContent = `confidence ${(result.confidence * 100).toFixed(1)} % · label id ${result.labelId}`;
  $("bpm").textContent = result.heartRateBpm === null ? "—" : `${Math.round(result.heartRateBpm)} bpm`;
  $("duration").textContent = `${
    result.durationS.toFixed(1)
  } s at ${result.sampleRate} Hz · ${result.s1TimesS.length} S1, ${result.s2TimesS.length} S2`;
  const body = $("probabilities").querySelector("tbody") as HTMLTableSectionElement;
  body.replaceChildren();
  for (const [label, p] of Object.entries(result.probabilities)) {
    const row = document.createElement("tr");
    row.dataset.label = label;
    row.dataset.probability = String(p);
    if (label === result.label) row.className = "best";
    const nameCell = document.createElement("td");
    nameCell.className = "name";
    nameCell.textContent = label;
    const barCell = document.createElement("td");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${Math.max(0.5, p * 100)}%`;
    barCell.append(bar);
    const valueCell = document.createElement("td");
    valueCell.className = "value";
    valueCell.textContent = `${(p * 100).toFixed(1)} %`;
    row.append(nameCell, barCell, valueCell);
    body.append(row);
  }
  const warnings = $("warnings");
  warnings.replaceChildren(
    ...result.warnings.map((w) =>
      // A "retake: <reason>" warning (low signal quality) is said plainly and stands out.
      w.startsWith("retake: ")
        ? Object.assign(document.createElement("li"), {
          className: "retake",
          textContent: `Retake the recording: ${w.slice("retake: ".length)}. The class below is a guess.`,
        })
        : Object.assign(document.createElement("li"), { textContent: w })
    ),
  );
  if (result.quality !== null) section.dataset.quality = result.quality.toFixed(3);
  else delete section.dataset.quality;
  drawWaveform($("wave") as HTMLCanvasElement, samples, sampleRate, result);
  section.dataset.label = result.label;
  section.dataset.labelId = String(result.labelId);
  section.dataset.state = "done";
}

// ---------------------------------------------------------------- classification

/** Decodes audio the WAV reader does not take (mp3, m4a, ogg, ...) with the browser's decoder. */
async function decodeWithBrowser(bytes: Uint8Array): Promise<{ samples: Float32Array; sampleRate: number }> {
  const context = new OfflineAudioContext(1, 1, 44100);
  const buffer = await context.decodeAudioData(bytes.slice().buffer);
  const samples = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < samples.length; i++) samples[i] += channel[i] / buffer.numberOfChannels;
  }
  return { samples, sampleRate: buffer.sampleRate };
}

function isRiff(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === "RIFF";
}

async function classifyAndShow(
  name: string,
  load: () => Promise<{ bytes?: Uint8Array; samples?: Float32Array; sampleRate?: number }>,
) {
  const started = performance.now();
  clearError();
  document.body.dataset.state = "busy";
  $("result").dataset.state = "busy";
  setStatus(`Classifying ${name}…`);
  try {
    const input = await load();
    const model = await classifier();
    let samples: Float32Array;
    let sampleRate: number;
    let result: ClassifyResult;
    if (input.bytes && isRiff(input.bytes)) {
      result = model.classifyWav(input.bytes);
      // The canvas needs the samples: decode once more (cheap next to the model), with the same reader.
      const wav = readWav(input.bytes);
      samples = wav.samples;
      sampleRate = wav.sampleRate;
    } else {
      const decoded = input.bytes
        ? await decodeWithBrowser(input.bytes)
        : { samples: input.samples!, sampleRate: input.sampleRate! };
      samples = decoded.samples;
      sampleRate = decoded.sampleRate;
      result = model.classify(samples, sampleRate);
    }
    renderResult(name, samples, sampleRate, result);
    const ms = performance.now() - started;
    const timing = $("timing");
    const { name: modelName, version, hash } = result.model;
    timing.textContent = `Computed in this page in ${ms.toFixed(0)} ms by model ${modelName} ${version} (${hash}).`;
    timing.dataset.ms = ms.toFixed(1);
    setStatus("Done. Choose another recording to classify it.");
    document.body.dataset.state = "done";
  } catch (error) {
    setStatus("");
    showError(errorText(error));
  }
}

function classifyFile(file: File): Promise<void> {
  return classifyAndShow(file.name, async () => ({ bytes: new Uint8Array(await file.arrayBuffer()) }));
}

// ---------------------------------------------------------------- microphone

interface Recording {
  stop(): Promise<{ samples: Float32Array; sampleRate: number }>;
}

async function startRecording(onTick: (seconds: number) => void): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const context = new AudioContext();
  await context.audioWorklet.addModule(new URL("recorder-worklet.js", document.baseURI));
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "heartbeat-recorder");
  const chunks: Float32Array[] = [];
  let length = 0;
  node.port.onmessage = (event: MessageEvent<Float32Array>) => {
    chunks.push(event.data);
    length += event.data.length;
    onTick(length / context.sampleRate);
  };
  source.connect(node);
  return {
    async stop() {
      source.disconnect();
      node.disconnect();
      for (const track of stream.getTracks()) track.stop();
      const sampleRate = context.sampleRate;
      await context.close();
      const samples = new Float32Array(length);
      let at = 0;
      for (const chunk of chunks) {
        samples.set(chunk, at);
        at += chunk.length;
      }
      return { samples, sampleRate };
    },
  };
}

function setUpRecording(): void {
  const button = $("record") as HTMLButtonElement;
  const status = $("record-status");
  const canRecord = globalThis.isSecureContext && !!navigator.mediaDevices?.getUserMedia &&
    typeof AudioWorkletNode !== "undefined";
  if (!canRecord) return;
  button.hidden = false;
  let recording: Recording | null = null;
  let stopping = false;
  const stop = async () => {
    if (!recording || stopping) return;
    stopping = true;
    const current = recording;
    recording = null;
    button.classList.remove("recording");
    button.textContent = "● Record from microphone";
    status.textContent = "";
    await classifyAndShow("Microphone recording", () => current.stop());
    stopping = false;
  };
  button.addEventListener("click", async () => {
    if (recording) return stop();
    try {
      clearError();
      recording = await startRecording((s) => {
        status.textContent = `Recording… ${s.toFixed(0)} s (hold the stethoscope still; stop after 5–15 s)`;
        if (s >= MAX_RECORDING_S) stop();
      });
      button.classList.add("recording");
      button.textContent = "■ Stop and classify";
    } catch (error) {
      showError(`Cannot record: ${errorText(error)}`);
    }
  });
}

// ---------------------------------------------------------------- start

function setUpInput(): void {
  const input = $("file") as HTMLInputElement;
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (!file) return;
    classifyFile(file);
    input.value = ""; // so that choosing the same file again classifies it again
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer?.files[0];
    if (file) classifyFile(file);
  });
}

async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return;
  try {
    await navigator.serviceWorker.register(new URL("sw.js", document.baseURI));
    await navigator.serviceWorker.ready;
    $("offline").textContent = "This page now also works offline.";
    document.body.dataset.offline = "ready";
  } catch (error) {
    console.warn(`Offline use is not available: ${errorText(error)}`);
  }
}

async function main(): Promise<void> {
  setUpInput();
  setUpRecording();
  const started = performance.now();
  try {
    const model = await classifier();
    const ms = performance.now() - started;
    setStatus(`Model ready (${model.labels().join(", ")}; loaded in ${ms.toFixed(0)} ms). Choose a recording.`);
    document.body.dataset.model = "ready";
    document.body.dataset.modelMs = ms.toFixed(1);
  } catch (error) {
    setStatus("");
    showError(errorText(error));
    document.body.dataset.model = "error";
  }
  registerServiceWorker();
}

main();
