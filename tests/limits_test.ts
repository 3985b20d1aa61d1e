/** What no input may do (issue 17): hang, eat memory, or produce a result from non-finite numbers. Each test is one
 * defect's repro: the library's answer, and the CLI's (a subprocess with read permission only). */
import assert from "node:assert/strict";
import { checkRecordingSize, loadClassifier, MAX_DURATION_S, MIN_SAMPLE_RATE_HZ } from "../lib/classifier.ts";
import { ModelError, ParameterError } from "../lib/errors.ts";
import { classifyFile, fileErrorText, quoteName, shownName, writeAll } from "../lib/infer.ts";
import { encodeWav } from "../lib/wav.ts";
import { ensureBuilt, needsNode } from "./_bundle.ts";
import { ROOT, synthWav, writeConstantModel } from "./_infer_fixtures.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", `${ROOT}/lib/infer.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
    signal: AbortSignal.timeout(60_000), // a hang fails the test instead of stalling the suite
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** `bytes` (a 44-byte-header WAV from encodeWav) with the header's sample rate set to `rate` Hz. */
function withRate(bytes: Uint8Array, rate: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(24, rate, true);
  return out;
}

Deno.test("checkRecordingSize() refuses rates below 1 kHz and recordings over maxDurationS", () => {
  assert.equal(MIN_SAMPLE_RATE_HZ, 1000);
  assert.equal(MAX_DURATION_S, 600);
  checkRecordingSize(1000, 600);
  checkRecordingSize(44100, 1000, { maxDurationS: 7200 });
  assert.throws(() => checkRecordingSize(999, 10), /^ParameterError: Cannot classify: sample rate is 999 Hz/);
  assert.throws(() => checkRecordingSize(NaN, 10), ParameterError);
  assert.throws(() => checkRecordingSize(4000, 600.1), /600\.1 s long, more than the limit of 600 s/);
  assert.throws(() => checkRecordingSize(4000, 20, { maxDurationS: 10 }), /limit of 10 s/);
  assert.throws(() => checkRecordingSize(4000, 1, { maxDurationS: 0 }), /maxDurationS is 0/);
});

Deno.test("classifyWav() refuses a 1 Hz header (a 48 kB file claiming 6 hours) before any work", async () => {
  const classifier = await loadClassifier();
  const bomb = withRate(synthWav("murmur", { durationS: 6 }), 1); // 24,000 samples at "1 Hz"
  assert.throws(() => classifier.classifyWav(bomb), /sample rate is 1 Hz, expected at least 1000 Hz/);
  const wav = synthWav("normal", { durationS: 3, sampleRate: 4000 });
  assert.throws(() => classifier.classifyWav(wav, { maxDurationS: 2 }), /3\.0 s long, more than the limit of 2 s/);
  assert.equal(classifier.classifyWav(wav, { maxDurationS: 3 }).durationS, 3);
  const samples = new Float32Array(1000).map((_, i) => Math.sin(i));
  assert.throws(() => classifier.classify(samples, 999), /sample rate is 999 Hz/);
});

Deno.test("classifyWav() gives a one-line ModelError, not a result, when the model gives NaN", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_nan_" });
  try {
    await writeConstantModel(dir, [NaN, 0, 0, 0]);
    const classifier = await loadClassifier(new URL(`file://${dir}/model.json`));
    assert.throws(
      () => classifier.classifyWav(synthWav("normal")),
      (e: unknown) =>
        e instanceof ModelError && /^Cannot classify: the model gave a probability of NaN for normal/.test(e.message) &&
        !e.message.includes("\n"),
    );
    const run = await cli(["--json", "--model", dir, `${ROOT}/examples/synthetic_normal.wav`]);
    assert.equal(run.code, 1);
    assert.match(JSON.parse(run.stdout).error, /probability of NaN/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI refuses FIFOs, devices and over-long files at once, with one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_limits_" });
  try {
    const fifo = `${dir}/pipe.wav`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output().catch(() => null);
    const bomb = `${dir}/bomb.wav`;
    await Deno.writeFile(bomb, withRate(synthWav("murmur", { durationS: 6 }), 1));
    // A sparse 2 GB file whose header says 4 kHz, sizes unknown: 74 hours, refused from its first bytes.
    const huge = `${dir}/huge.wav`;
    const header = encodeWav({ samples: new Float32Array(2), sampleRate: 4000 }).slice(0, 44);
    new DataView(header.buffer).setUint32(4, 0xffffffff, true);
    new DataView(header.buffer).setUint32(40, 0xffffffff, true);
    await Deno.writeFile(huge, header);
    await Deno.truncate(huge, 2 ** 31);
    const inputs = [bomb, huge, "/dev/zero", ...(made?.success ? [fifo] : [])];
    const run = await cli(inputs);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    const lines = run.stderr.trim().split("\n");
    assert.deepEqual(lines.map((l) => l.slice(0, l.indexOf(": "))), inputs);
    assert.match(lines[0], /sample rate is 1 Hz/);
    assert.match(lines[1], /268435\.5 s long, more than the limit of 600 s \(raise it with --max-duration/);
    assert.match(lines[2], /"\/dev\/zero": not a regular file/);
    if (made?.success) assert.match(lines[3], /pipe\.wav": not a regular file/);
    else console.log("SKIP: mkfifo not available; FIFO case left out");
    // A 1 s recording followed by 64 MiB of something else: more than its audio needs, refused unread.
    const padded = `${dir}/padded.wav`;
    const oneSecond = synthWav("normal", { durationS: 1 });
    new DataView(oneSecond.buffer).setUint32(4, 0xffffffff, true);
    await Deno.writeFile(padded, oneSecond);
    await Deno.truncate(padded, 64 << 20);
    const trailing = await cli([padded]);
    assert.equal(trailing.code, 1);
    assert.match(trailing.stderr, /padded\.wav": it has 67108864 bytes, more than its 1\.0 s of audio need/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI shows file names with control characters escaped, on stdout and stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_names_" });
  try {
    const evil = `${dir}/a\nfake.wav: normal (1.00)\x1b[31m.wav`;
    await Deno.writeFile(evil, synthWav("normal"));
    const missing = `${dir}/gone\r\x9b2J.wav`;
    const run = await cli([evil, missing]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.split("\n").length, 2, run.stdout); // one line and the final newline
    assert.ok(run.stdout.startsWith(`${JSON.stringify(evil)}: Normal`), run.stdout);
    // deno-lint-ignore no-control-regex -- the raw control characters must not reach the terminal
    assert.doesNotMatch(run.stdout + run.stderr, /[\x1b\x9b\r]/);
    assert.equal(run.stderr.trim().split("\n").length, 1);
    assert.match(run.stderr, /gone\\r\\u009b2J\.wav.*no such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quoteName() and shownName() escape controls, line breaks and bidi overrides JSON-style", () => {
  assert.equal(quoteName("a b.wav"), '"a b.wav"');
  assert.equal(shownName("a b.wav"), "a b.wav");
  assert.equal(shownName("é/ü.wav"), "é/ü.wav");
  assert.equal(shownName("a\nb"), '"a\\nb"');
  assert.equal(shownName("\x1b[2J"), '"\\u001b[2J"');
  assert.equal(shownName("x\x9by\u202ez"), '"x\\u009by\\u202ez"');
  assert.equal(shownName('say "hi"'), '"say \\"hi\\""');
});

Deno.test("fileErrorText() tells an OS refusal from Deno's own", () => {
  assert.equal(fileErrorText(new Deno.errors.PermissionDenied("Permission denied (os error 13)")), "permission denied");
  assert.equal(
    fileErrorText(new Deno.errors.NotCapable('Requires read access to "x.wav", run again with the --allow-read flag')),
    "read access not granted (run with -R)",
  );
  assert.match(
    fileErrorText(
      new Deno.errors.NotCapable('Requires all access to "/dev/stdin", run again with the --allow-all flag'),
    ),
    /only with --allow-all; save it to a regular file/,
  );
});

Deno.test("writeAll() retries a non-blocking output's EAGAIN and partial writes until every byte is out", () => {
  const written: number[] = [];
  let calls = 0;
  const out = {
    writeSync(p: Uint8Array): number {
      calls++;
      if (calls % 3 === 1) throw new Deno.errors.WouldBlock("Resource temporarily unavailable (os error 11)");
      const n = Math.min(2, p.length); // a slow reader takes two bytes at a time
      written.push(...p.subarray(0, n));
      return n;
    },
  };
  const bytes = new TextEncoder().encode("line one\nline two\n");
  writeAll(out, bytes);
  assert.deepEqual(written, [...bytes]);
  assert.throws(() =>
    writeAll({
      writeSync: () => {
        throw new Deno.errors.BrokenPipe("closed");
      },
    }, bytes), Deno.errors.BrokenPipe);
});

Deno.test("infer CLI caps --jobs at the number of cores, with a note", async () => {
  const run = await cli(["--jobs", "64", `${ROOT}/examples/synthetic_murmur.wav`]);
  assert.equal(run.code, 0);
  assert.match(
    run.stderr,
    new RegExp(`^Note: --jobs 64 lowered to ${navigator.hardwareConcurrency}, the number of CPU cores\\n$`),
  );
  assert.match(run.stdout, /synthetic_murmur\.wav: Murmur/);
});

Deno.test("classifyFile() refuses a directory and a FIFO without opening them", async () => {
  await assert.rejects(classifyFile(ROOT), /Cannot read file ".*": is a directory/);
  await assert.rejects(classifyFile("/dev/zero"), /not a regular file/);
});

Deno.test("infer CLI in a fresh Deno cache downloads no npm package", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "heartbeat_denodir_" });
  try {
    // A registry that refuses every connection: any download attempt shows as a "Download" line or an error.
    const run = await cli([`${ROOT}/examples/synthetic_murmur.wav`], {
      DENO_DIR: denoDir,
      NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /Download|npm|build scripts/);
    assert.match(run.stdout, /murmur/);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

/** Runs the CLI with its stdout a non-blocking 4 KiB pipe that python reads slowly; prints "code lines". */
const SLOW_READER = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: a small pipe fills after a few lines
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
data = b""
time.sleep(1)
while chunk := os.read(r, 512):
    data += chunk
    time.sleep(0.005)
print(p.wait(), data.count(b"\\n"))
`;

Deno.test("infer CLI writes every line to a non-blocking stdout whose reader is slow", async (t) => {
  const python = await new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" }).output()
    .catch(() => null);
  if (!python?.success) {
    await t.step("SKIP: python3 not available to make a non-blocking pipe", () => {});
    return;
  }
  // distinct files: the CLI classifies a file named twice once
  const dir = await Deno.makeTempDir();
  const files = Array.from({ length: 40 }, (_, i) => `${dir}/${i}.wav`);
  for (const file of files) await Deno.copyFile(`${ROOT}/examples/synthetic_murmur.wav`, file);
  const out = await new Deno.Command("python3", {
    args: ["-c", SLOW_READER, Deno.execPath(), "run", "-R", `${ROOT}/lib/infer.ts`, "--json", "--jobs", "1", ...files],
    stdout: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "0 40");
});

Deno.test({
  name: "the Node CLI (dist/cli.js) gives the Deno CLI's lines for bad recordings, odd names and a bad model",
  ...await needsNode(),
  fn: async () => {
    await ensureBuilt();
    const dir = await Deno.makeTempDir({ prefix: "heartbeat_node_limits_" });
    try {
      const fifo = `${dir}/pipe.wav`;
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output().catch(() => null);
      const bomb = `${dir}/bomb.wav`;
      await Deno.writeFile(bomb, withRate(synthWav("murmur", { durationS: 6 }), 1));
      const odd = `${dir}/a\nfake.wav: normal (1.00)\x1b[31m.wav`;
      await Deno.writeFile(odd, synthWav("normal"));
      const padded = `${dir}/padded.wav`;
      const oneSecond = synthWav("normal", { durationS: 1 });
      new DataView(oneSecond.buffer).setUint32(4, 0xffffffff, true);
      await Deno.writeFile(padded, oneSecond);
      await Deno.truncate(padded, 64 << 20);
      const inputs = [bomb, "/dev/zero", odd, padded, ...(made?.success ? [fifo] : [])];
      const node = async (args: string[]) => {
        const out = await new Deno.Command("node", {
          args: [`${ROOT}/dist/cli.js`, ...args],
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(60_000),
        }).output();
        const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
        return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
      };
      const [fromNode, fromDeno] = [await node(inputs), await cli(inputs)];
      assert.equal(fromNode.code, 1);
      assert.equal(fromNode.stderr, fromDeno.stderr);
      assert.equal(fromNode.stdout, fromDeno.stdout);
      assert.equal(fromNode.stderr.trim().split("\n").length, inputs.length - 1, fromNode.stderr);
      // a model folder whose weight file is /dev/zero: one line, exit 2
      const model = `${dir}/model`;
      await Deno.mkdir(model);
      for (const entry of Deno.readDirSync(`${ROOT}/models`)) {
        if (entry.isFile) await Deno.copyFile(`${ROOT}/models/${entry.name}`, `${model}/${entry.name}`);
      }
      await Deno.remove(`${model}/weights-1.bin`);
      await Deno.symlink("/dev/zero", `${model}/weights-1.bin`);
      const [badNode, badDeno] = [await node(["--model", model, bomb]), await cli(["--model", model, bomb])];
      assert.equal(badNode.code, 2);
      assert.equal(badNode.stderr, badDeno.stderr);
      assert.match(badNode.stderr, /^Cannot load model: file:\/\/.*weights-1\.bin: not a regular file[^\n]*\n$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
