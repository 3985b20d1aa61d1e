/**
 * On-disk feature cache. An entry is keyed by the SHA-256 of the audio file's bytes, a canonical
 * JSON of the feature parameters and a code-version string, so a changed file, parameter or
 * feature implementation never returns stale numbers. Entries are one binary file each:
 *
 *   "HBF1" | uint32 LE header length | JSON header | padding to 4 bytes | float32 LE arrays back to back
 *
 * where the header is `{ key, params, version, arrays: [{ name, length }], meta }`.
 * Writes go to a temporary file and are renamed, so a crashed run never leaves a torn entry.
 * @module
 */
import { HeartSoundError } from "./errors.ts";

/** Named Float32Arrays plus small JSON-serialisable facts (sample rate, hop, …). */
export interface FeatureRecord {
  arrays: Record<string, Float32Array>;
  meta?: Record<string, number | string | boolean | null>;
}

/** Options of {@linkcode cachedFeatures}. */
export interface CacheOptions {
  /** Cache folder. @default {HEARTBEAT_CACHE, else "<cwd>/.cache/features"} */
  dir?: string;
  /** Bump when the feature code changes; part of the key. @default {"1"} */
  codeVersion?: string;
  /** false: always compute, never read or write. @default {true} */
  enabled?: boolean;
}

/** Hit/miss counters of a process, for progress reports. */
export const cacheStats = { hits: 0, misses: 0 };

const MAGIC = [0x48, 0x42, 0x46, 0x31]; // "HBF1"

/** JSON with object keys sorted at every level (arrays keep their order); undefined members are dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Lower-case hex SHA-256 of bytes or of a UTF-8 string. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The default cache folder: HEARTBEAT_CACHE, else .cache/features under the working directory. */
export function defaultCacheDir(): string {
  let env: string | undefined;
  try {
    env = Deno.env.get("HEARTBEAT_CACHE");
  } catch {
    env = undefined;
  }
  return env ?? `${Deno.cwd()}/.cache/features`;
}

/** Serialises a record to the entry format above. */
export function encodeEntry(record: FeatureRecord, header: Record<string, unknown> = {}): Uint8Array {
  const names = Object.keys(record.arrays).sort();
  const json = new TextEncoder().encode(JSON.stringify({
    ...header,
    arrays: names.map((name) => ({ name, length: record.arrays[name].length })),
    meta: record.meta ?? {},
  }));
  const headerEnd = 8 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const total = dataStart + 4 * names.reduce((s, n) => s + record.arrays[n].length, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  const floats = new Float32Array(out.buffer, dataStart);
  let at = 0;
  for (const n of names) {
    floats.set(record.arrays[n], at);
    at += record.arrays[n].length;
  }
  return out;
}

/** Parses an entry; returns its record and header. Throws HeartSoundError on a malformed entry. */
export function decodeEntry(bytes: Uint8Array): { record: FeatureRecord; header: Record<string, unknown> } {
  if (bytes.length < 8 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new HeartSoundError("Cannot read cache entry: bad magic");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(4, true);
  if (8 + jsonLength > bytes.length) throw new HeartSoundError("Cannot read cache entry: truncated header");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + jsonLength)));
  const dataStart = Math.ceil((8 + jsonLength) / 4) * 4;
  const arrays: Record<string, Float32Array> = {};
  let at = dataStart;
  for (const { name, length } of header.arrays as { name: string; length: number }[]) {
    if (at + 4 * length > bytes.length) throw new HeartSoundError("Cannot read cache entry: truncated data");
    // copy: the entry buffer may be unaligned or shared
    arrays[name] = new Float32Array(bytes.slice(at, at + 4 * length).buffer);
    at += 4 * length;
  }
  return { record: { arrays, meta: header.meta }, header };
}

/**
 * Returns the features of one audio file from the cache, or computes and stores them.
 * @param path The audio file; its bytes are hashed (and handed to `compute`, so it is read once).
 * @param params Every parameter the features depend on (JSON-serialisable).
 * @param compute Computes the features from the file's bytes on a miss.
 * @example Usage
 * ```ts
 * const rec = await cachedFeatures("a.wav", { delta: 0.01 }, (bytes) => ({ arrays: { x: new Float32Array(bytes.length) } }));
 * ```
 */
export async function cachedFeatures(
  path: string,
  params: unknown,
  compute: (bytes: Uint8Array) => FeatureRecord | Promise<FeatureRecord>,
  options: CacheOptions = {},
): Promise<FeatureRecord> {
  const bytes = await Deno.readFile(path);
  if (options.enabled === false) return await compute(bytes);
  const version = options.codeVersion ?? "1";
  const key = await sha256Hex(`${await sha256Hex(bytes)}\n${canonicalJson(params)}\n${version}`);
  const dir = `${options.dir ?? defaultCacheDir()}/${key.slice(0, 2)}`;
  const file = `${dir}/${key}.bin`;
  try {
    const { record, header } = decodeEntry(await Deno.readFile(file));
    if (header.key === key) {
      cacheStats.hits++;
      return record;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof HeartSoundError) && !(e instanceof SyntaxError)) throw e;
  }
  cacheStats.misses++;
  const record = await compute(bytes);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${file}.${Deno.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await Deno.writeFile(tmp, encodeEntry(record, { key, params, version }));
  await Deno.rename(tmp, file);
  return record;
}
