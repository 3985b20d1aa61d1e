import assert from "node:assert/strict";

const LIB = new URL("../lib/", import.meta.url);

/** The relative `.ts` imports of one lib file: static ones, and dynamic `import("./x.ts")` separately. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const source = Deno.readTextFileSync(new URL(file, LIB));
  const statics = [...source.matchAll(/^(?:import|export)\s(?:type\s)?[^;]*?from\s+"\.\/([\w.]+\.ts)"/gm)]
    .filter((m) => !/^(?:import|export)\s+type\s/.test(m[0]))
    .map((m) => m[1]);
  const dynamic = [...source.matchAll(/import\(\s*"\.\/([\w.]+\.ts)"\s*\)/g)].map((m) => m[1]);
  return { static: statics, dynamic };
}

function libFiles(): string[] {
  return [...Deno.readDirSync(LIB)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) => e.name).sort();
}

/** Every import cycle among lib files (type-only imports excluded, dynamic imports included). */
function cycles(): string[][] {
  const graph = new Map(
    libFiles().map((f) => {
      const { static: s, dynamic: d } = importsOf(f);
      return [f, [...s, ...d]];
    }),
  );
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open") found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

Deno.test("lib/ has no import cycle", () => {
  assert.deepEqual(cycles().map((c) => c.join(" → ")), []);
});

Deno.test("the classifying path (lib/infer.ts, static imports) imports no npm package", () => {
  const seen = new Set<string>();
  const npm: string[] = [];
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const source = Deno.readTextFileSync(new URL(f, LIB));
    if (/^(?:import|export)\s(?!type\s)[^;]*?from\s+"npm:/m.test(source)) npm.push(f);
    for (const g of importsOf(f).static) visit(g);
  };
  visit("infer.ts");
  assert.deepEqual(npm, []);
  assert.ok(seen.has("classifier.ts") && seen.has("model_folder.ts"));
});

Deno.test("classifying (lib/classifier.ts and what it loads, tfjs aside) does not reach the experiments' modules", () => {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f) || f === "tf.ts") return;
    seen.add(f);
    const { static: s, dynamic: d } = importsOf(f);
    for (const g of [...s, ...d]) visit(g);
  };
  visit("classifier.ts");
  assert.ok(seen.has("forward.ts") && seen.has("stack.ts") && seen.has("preprocess.ts"), [...seen].join());
  for (const f of ["align.ts", "features.ts", "model.ts", "experiments.ts", "cnn.ts"]) assert.ok(!seen.has(f), f);
});
