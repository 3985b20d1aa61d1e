import assert from "node:assert/strict";
import {
  AUDIT_RATE_HZ,
  auditGroups,
  bestAlignment,
  candidatePairs,
  DEFAULT_COPY_THRESHOLD,
  fileFacts,
  histogram,
  minOverlapFor,
  oddFiles,
  prepareAuditSignal,
  setATimestampMinutes,
} from "../lib/audit.ts";
import { auditJson, auditMarkdown, runAudit, withAuditGroups } from "../lib/audit_run.ts";
import { resample } from "../lib/resample.ts";
import { synthesizeHeartSound, type SynthKind } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";

function synth(kind: SynthKind, seed: number, rate: number, durationS = 8, heartRateBpm = 72): Float32Array {
  return synthesizeHeartSound({ kind, seed, sampleRate: rate, durationS, heartRateBpm, noiseLevel: 0.05 }).samples;
}

/** A copy of `x[from, from + length)` at another gain. */
function cut(x: Float32Array, from: number, length: number, gain: number): Float32Array {
  return Float32Array.from(x.subarray(from, from + length), (v) => v * gain);
}

Deno.test("bestAlignment() finds a known lag and similarity 1 for a shifted, scaled copy", () => {
  const a = Float64Array.from(
    { length: 3000 },
    (_, i) => Math.sin(i * 0.37) + Math.sin(i * 0.051 + 1) * Math.cos(i * 0.013),
  );
  const b = Float64Array.from(a.subarray(700, 2700), (v) => -0.0 + 0.25 * v);
  const m = bestAlignment(a, b, 500);
  assert.equal(m.lag, 700);
  assert.ok(Math.abs(m.similarity - 1) < 1e-9, `${m.similarity}`);
  assert.equal(m.overlap, 2000);
  const back = bestAlignment(b, a, 500);
  assert.equal(back.lag, -700);
});

Deno.test("a copy resampled 44.1 kHz → 4 kHz, shifted and gain-scaled matches; a same-class recording does not", () => {
  const orig = synth("murmur", 11, 44100);
  const copy4k = resample(cut(orig, Math.round(1.3 * 44100), 5 * 44100, 0.3), 44100, 4000);
  const other = synth("murmur", 12, 44100); // same class, same heart rate, another recording
  const sa = prepareAuditSignal({ samples: orig, sampleRate: 44100 });
  const sb = prepareAuditSignal({ samples: copy4k, sampleRate: 4000 });
  const so = prepareAuditSignal({ samples: other, sampleRate: 44100 });
  const m = bestAlignment(sa.samples, sb.samples, minOverlapFor(sa.samples.length, sb.samples.length, AUDIT_RATE_HZ));
  assert.ok(m.similarity > 0.95, `copy similarity ${m.similarity}`);
  assert.ok(Math.abs(m.lag / AUDIT_RATE_HZ - 1.3) < 0.002, `lag ${m.lag / AUDIT_RATE_HZ} s`);
  const miss = bestAlignment(
    sa.samples,
    so.samples,
    minOverlapFor(sa.samples.length, so.samples.length, AUDIT_RATE_HZ),
  );
  assert.ok(miss.similarity < DEFAULT_COPY_THRESHOLD, `near-miss similarity ${miss.similarity}`);
  // the fingerprints rank the copy first
  const c = candidatePairs([sa.fingerprint, sb.fingerprint, so.fingerprint], -1);
  const score = (a: number, b: number) => c.find((p) => p.a === a && p.b === b)!.score;
  assert.ok(score(0, 1) > 0.9 && score(0, 1) > score(0, 2) && score(0, 1) > score(1, 2));
});

Deno.test("auditGroups() joins set_b patients, set_a sessions and copy pairs", () => {
  const items = [
    { relPath: "set_a/normal__201101010900.wav", set: "a" as const, patientId: "a:normal__201101010900" },
    { relPath: "set_a/murmur__201101010904.wav", set: "a" as const, patientId: "a:murmur__201101010904" },
    { relPath: "set_a/normal__201101010911.wav", set: "a" as const, patientId: "a:normal__201101010911" },
    { relPath: "set_b/normal__103_1_A.wav", set: "b" as const, patientId: "b:103" },
    { relPath: "set_b/normal__103_1_B.wav", set: "b" as const, patientId: "b:103" },
    { relPath: "set_b/normal__146_2_A.wav", set: "b" as const, patientId: "b:146" },
    { relPath: "set_b/normal__150_2_A.wav", set: "b" as const, patientId: "b:150" },
  ];
  const groups = auditGroups(items, [{ a: 5, b: 3 }, { a: 2, b: 6 }]);
  assert.deepEqual(groups, [
    "a:murmur__201101010904",
    "a:murmur__201101010904",
    "a:normal__201101010911", // 7 minutes after the session's last file: its own session, joined to 150 by a copy
    "b:103",
    "b:103",
    "b:103",
    "a:normal__201101010911",
  ]);
  assert.equal(setATimestampMinutes("normal__201101010904.wav")! - setATimestampMinutes("x__201101010900.wav")!, 4);
  assert.equal(setATimestampMinutes("normal__103_1305031931979_B.wav"), null);
});

Deno.test("oddFiles() flags silent, clipped, short, off-rate and over-long files only", () => {
  const tone = (n: number, amp: number) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin(i / 7));
  const facts = [
    fileFacts("set_b/ok1.wav", "b", { samples: tone(20000, 0.3), sampleRate: 4000 }),
    fileFacts("set_b/ok2.wav", "b", { samples: tone(24000, 0.3), sampleRate: 4000 }),
    fileFacts("set_b/silent.wav", "b", { samples: new Float32Array(20000), sampleRate: 4000 }),
    fileFacts("set_b/clipped.wav", "b", {
      samples: tone(20000, 3).map((v) => Math.max(-1, Math.min(1, v))),
      sampleRate: 4000,
    }),
    fileFacts("set_b/short.wav", "b", { samples: tone(2000, 0.3), sampleRate: 4000 }),
    fileFacts("set_b/rate.wav", "b", { samples: tone(40000, 0.3), sampleRate: 8000 }),
    fileFacts("set_b/long.wav", "b", { samples: tone(200000, 0.3), sampleRate: 4000 }),
  ];
  assert.deepEqual(oddFiles(facts).map((o) => `${o.relPath} ${o.kind}`), [
    "set_b/clipped.wav clipped",
    "set_b/long.wav duration",
    "set_b/rate.wav rate",
    "set_b/short.wav too short",
    "set_b/silent.wav silent",
  ]);
});

Deno.test("histogram() counts values per bin, clamping to [0, 1]", () => {
  const h = histogram([-0.2, 0.01, 0.49, 0.5, 1, 1.2], 0.5);
  assert.deepEqual(h.map((b) => b.count), [3, 3]);
});

Deno.test("runAudit() on a synthetic folder finds the planted copies and only them", () => {
  const dir = Deno.makeTempDirSync({ prefix: "heartbeat-audit-" });
  try {
    Deno.mkdirSync(`${dir}/set_a`);
    Deno.mkdirSync(`${dir}/set_b`);
    const write = (path: string, samples: Float32Array, sampleRate: number) =>
      Deno.writeFileSync(`${dir}/${path}`, encodeWav({ samples, sampleRate }));
    const a1 = synth("normal", 1, 44100);
    write("set_a/normal__201101010900.wav", a1, 44100);
    write("set_a/normal__201102020900.wav", synth("normal", 2, 44100), 44100); // near-miss: same class and rate
    // a set_a recording copied into set_b at 4 kHz with another label and gain, 2 s in
    write("set_b/murmur__150_1300000000001_A.wav", resample(cut(a1, 2 * 44100, 5 * 44100, 0.5), 44100, 4000), 4000);
    const b1 = synth("murmur", 3, 4000, 10, 90);
    write("set_b/murmur__103_1300000000002_A.wav", b1, 4000);
    write("set_b/murmur__146_1300000000003_B.wav", cut(b1, 4000, 7 * 4000, 1.7), 4000); // patient 146 copies 103
    write("set_b/murmur__104_1300000000004_A.wav", synth("murmur", 4, 4000, 10, 90), 4000); // near-miss
    const report = runAudit(dir, { progress: false });
    assert.deepEqual(report.pairs.map((p) => [p.a, p.b]).sort(), [
      ["set_a/normal__201101010900.wav", "set_b/murmur__150_1300000000001_A.wav"],
      ["set_b/murmur__103_1300000000002_A.wav", "set_b/murmur__146_1300000000003_B.wav"],
    ]);
    for (const p of report.pairs) assert.ok(p.similarity > 0.95, `${p.a} ${p.b} ${p.similarity}`);
    const cross = report.pairs.find((p) => p.a.startsWith("set_a"))!;
    assert.ok(Math.abs(cross.lagS - 2) < 0.002, `lag ${cross.lagS}`);
    assert.deepEqual(report.labelConflicts.map((c) => [c.labelA, c.labelB]), [["normal", "murmur"]]);
    assert.deepEqual(report.patientCopies.map((p) => [p.patient, p.other]), [["b:103", "b:146"], ["b:146", "b:103"]]);
    assert.equal(report.groups["set_b/murmur__146_1300000000003_B.wav"], "b:103");
    assert.equal(report.groups["set_b/murmur__150_1300000000001_A.wav"], "a:normal__201101010900");
    assert.equal(report.groups["set_b/murmur__104_1300000000004_A.wav"], "b:104");
    const json = JSON.parse(auditJson(report));
    assert.ok(Array.isArray(json.pairs) && json.groups && Array.isArray(json.labelConflicts));
    assert.match(auditMarkdown(report), /\| 0\.9\d+ \| 2\.000 \|/);
    const regrouped = withAuditGroups(
      [{ relPath: "set_a/normal__201101010900.wav", patientId: "x" }, { relPath: "set_b/x.wav", patientId: "b:9" }],
      { groups: report.groups, conflicted: new Set(report.labelConflicts.flatMap((c) => [c.a, c.b])) },
    );
    assert.deepEqual(regrouped, [{ relPath: "set_b/x.wav", patientId: "b:9" }]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
