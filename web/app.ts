/// <reference lib="dom" />
/**
 * The web page's script (built into dist/app.js by `deno task build`). Everything runs on the device: the WAV is
 * decoded, preprocessed and classified by the same lib/ code as the CLI, in a Web Worker (web/worker.ts →
 * dist/worker.js) so that no file can freeze the page; audio the WAV reader does not take is decoded by the browser
 * first. The result is shown in plain words with the report's figure (lib/html_report.ts), announced to screen
 * readers, and can be downloaded as the same one-file HTML report as the CLI's `--report`.
 * @module
 */
import type { ClassifyResult } from "../scripts/bundle_entry.ts";
import { displayName, explanation } from "../lib/classes.ts";
import {
  earlyBeats,
  figureDescription,
  htmlReport,
  reportFigureSvg,
  type ReportResult,
  resultSentence,
  rhythmSentence,
} from "../lib/html_report.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** Longest microphone recording, in seconds. */
const MAX_RECORDING_S = 30;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Cannot start page: element #${id} is missing`);
  return el;
}

const MODEL_URL = new URL("../models/model.json", document.baseURI);
// A module inside web/ (the service worker's scope) that imports dist/worker.js: its fetches work offline too.
const WORKER_URL = new URL("worker.js", document.baseURI);

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

// ---------------------------------------------------------------- the worker

interface Classified {
  result: ClassifyResult;
  samples: Float32Array;
  sampleRate: number;
}

/** The classification worker, restarted when the user moves on while it is busy. */
class Classifier {
  #worker: Worker | null = null;
  #ready: Promise<{ labels: string[]; ms: number }> | null = null;
  #pending: { id: number; resolve: (c: Classified) => void; reject: (e: Error) => void } | null = null;
  #nextId = 1;

  /** Starts the worker and loads the model (once per worker). */
  ready(): Promise<{ labels: string[]; ms: number }> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(WORKER_URL, { type: "module" });
    this.#worker = worker;
    this.#ready = new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const reply = event.data;
        if (reply.type === "ready") return resolve(reply);
        if (reply.type === "error" && reply.id === null) return reject(new Error(reply.message));
        const pending = this.#pending;
        if (!pending || reply.id !== pending.id) return;
        this.#pending = null;
        if (reply.type === "result") pending.resolve(reply);
        else if (reply.type === "error") pending.reject(new Error(reply.message));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        const error = new Error(`Cannot classify: the page's worker failed (${event.message || "unknown error"})`);
        reject(error);
        this.#pending?.reject(error);
        this.#pending = null;
      };
    });
    this.#ready.catch(() => {});
    this.#post({ type: "load", modelUrl: MODEL_URL.href });
    return this.#ready;
  }

  #post(request: WorkerRequest, transfer: Transferable[] = []): void {
    this.#worker!.postMessage(request, transfer);
  }

  /** Classifies WAV bytes or decoded samples; a call while another runs stops the worker and supersedes it. */
  async classify(input: { bytes?: ArrayBuffer; samples?: Float32Array; sampleRate?: number }): Promise<Classified> {
    if (this.#pending) this.#restart();
    await this.ready();
    const id = this.#nextId++;
    return await new Promise<Classified>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      const transfer = input.bytes ? [input.bytes] : input.samples ? [input.samples.buffer as ArrayBuffer] : [];
      this.#post({ type: "classify", id, ...input }, transfer);
    });
  }

  #restart(): void {
    this.#pending?.reject(new Error("superseded"));
    this.#pending = null;
    this.#worker?.terminate();
    this.#worker = null;
    this.#ready = null;
  }
}

const classifier = new Classifier();

// ---------------------------------------------------------------- result

let shown: { name: string; result: ClassifyResult; samples: Float32Array; sampleRate: number } | null = null;

function percent(p: number): string {
  return `${(p * 100).toFixed(0)} %`;
}

function renderResult(name: string, classified: Classified): void {
  const { result, samples, sampleRate } = classified;
  shown = { name, result, samples, sampleRate };
  const report = result as ReportResult;
  const section = $("result");
  section.hidden = false;
  $("file-name").textContent = name;
  $("file-chosen").textContent = `Classified: ${name}`;
  $("figure").innerHTML = reportFigureSvg(report, { samples, sampleRate }, {
    description: figureDescription(report, name),
  });
  $("label").textContent = displayName(result.label);
  $("explanation").textContent = explanation(result.label);
  $("confidence").textContent = `confidence ${percent(result.confidence)}`;
  $("bpm").textContent = result.heartRateBpm === null ? "not found" : `${Math.round(result.heartRateBpm)} bpm`;
  $("rhythm").textContent = rhythmSentence(report) ?? "";
  $("duration").textContent = `${
    result.durationS.toFixed(1)
  } s at ${result.sampleRate} Hz · ${result.s1TimesS.length} S1, ${result.s2TimesS.length} S2`;
  const body = $("probabilities").querySelector("tbody") as HTMLTableSectionElement;
  body.replaceChildren();
  for (const [label, p] of Object.entries(result.probabilities as Record<string, number>)) {
    const row = document.createElement("tr");
    row.dataset.label = label;
    row.dataset.probability = String(p);
    if (label === result.label) row.className = "best";
    const nameCell = document.createElement("th");
    nameCell.scope = "row";
    nameCell.className = "name";
    nameCell.textContent = displayName(label);
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
      // A "retake: <reason>" warning (poor signal quality) is said plainly and stands out.
      w.startsWith("retake: ")
        ? Object.assign(document.createElement("li"), {
          className: "retake",
          textContent: `Retake the recording: ${w.slice("retake: ".length)}. The class above is a guess.`,
        })
        : Object.assign(document.createElement("li"), { textContent: w })
    ),
  );
  $("warnings-box").hidden = result.warnings.length === 0;
  const model = result.model;
  $("details-list").replaceChildren(
    ...[
      `Class id (data set): ${result.label}, label id ${result.labelId}`,
      `${result.timeline.length} windows scored${
        result.irregularRhythm ? `; rhythm score ${result.irregularRhythm.score.toFixed(2)}` : ""
      }`,
      ...(result.quality !== null ? [`Signal quality ${result.quality.toFixed(2)} (0–1)`] : []),
      ...(model ? [`Model: ${model.name} version ${model.version}, hash ${model.hash}`] : []),
    ].map((text) => Object.assign(document.createElement("li"), { textContent: text })),
  );
  if (result.quality !== null) section.dataset.quality = result.quality.toFixed(3);
  else delete section.dataset.quality;
  section.dataset.label = result.label;
  section.dataset.labelId = String(result.labelId);
  section.dataset.timeline = JSON.stringify(result.timeline.map((w) => [w.startS, w.endS, w.label]));
  section.dataset.earlyBeats = JSON.stringify(earlyBeats(report));
  section.dataset.state = "done";
}

function downloadReport(): void {
  if (!shown) return;
  const html = htmlReport(shown.result as ReportResult, shown, {
    fileName: shown.name,
    createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  });
  const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  const link = Object.assign(document.createElement("a"), {
    href: url,
    download: `${shown.name.replace(/\.[^.]*$/, "") || "recording"}-report.html`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------- classification

/** Decodes audio the WAV reader does not take (mp3, m4a, ogg, ...) with the browser's decoder. */
async function decodeWithBrowser(bytes: ArrayBuffer): Promise<{ samples: Float32Array; sampleRate: number }> {
  const context = new OfflineAudioContext(1, 1, 44100);
  const buffer = await context.decodeAudioData(bytes);
  const samples = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < samples.length; i++) samples[i] += channel[i] / buffer.numberOfChannels;
  }
  return { samples, sampleRate: buffer.sampleRate };
}

function isRiff(bytes: ArrayBuffer): boolean {
  const b = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return b.length === 4 && String.fromCharCode(...b) === "RIFF";
}

let latest = 0;

async function classifyAndShow(
  name: string,
  load: () => Promise<{ bytes?: ArrayBuffer; samples?: Float32Array; sampleRate?: number }>,
) {
  const run = ++latest;
  const started = performance.now();
  clearError();
  document.body.dataset.state = "busy";
  $("result").dataset.state = "busy";
  setStatus(`Classifying ${name}…`);
  try {
    let input = await load();
    if (input.bytes && !isRiff(input.bytes)) {
      try {
        input = await decodeWithBrowser(input.bytes);
      } catch {
        throw new Error(
          `Cannot read "${name}": it is not a WAV file or audio this browser can decode. ` +
            "Choose a heart-sound recording as WAV (or MP3, M4A, OGG where the browser plays them).",
        );
      }
    }
    const classified = await classifier.classify(input);
    if (run !== latest) return;
    renderResult(name, classified);
    const ms = performance.now() - started;
    const timing = $("timing");
    timing.textContent = `Computed on this device in ${ms.toFixed(0)} ms.`;
    timing.dataset.ms = ms.toFixed(1);
    setStatus(`Result for ${resultSentence(classified.result as ReportResult, name)}`);
    document.body.dataset.state = "done";
  } catch (error) {
    if (run !== latest) return;
    setStatus("");
    const message = errorText(error);
    showError(message.includes(name) ? message : `Cannot classify "${name}": ${message.replace(/^Cannot \w+: /, "")}`);
  }
}

function classifyFile(file: File): Promise<void> {
  return classifyAndShow(file.name, async () => ({ bytes: await file.arrayBuffer() }));
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
        status.textContent = `Recording… ${s.toFixed(0)} s (quiet room, stethoscope still; stop after 10–20 s)`;
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
    $("file-chosen").textContent = `Chosen: ${file.name}`;
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
  $("download-report").addEventListener("click", downloadReport);
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
  try {
    const { ms } = await classifier.ready();
    setStatus(`Model ready (loaded in ${ms.toFixed(0)} ms). Choose a recording.`);
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
