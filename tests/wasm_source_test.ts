/**
 * The WebAssembly modules embedded in lib/ as base64 are what the WAT text in their doc comments compiles to, with
 * the assembler and options the comments name (wabt 1.0.39, `parseWat` with `simd: true`, `toBinary`): the source a
 * reader reviews is the code that runs.
 */
import assert from "node:assert/strict";
import wabtInit from "npm:wabt@1.0.39";

const EMBEDDED: [file: string, constant: string][] = [
  ["lib/resample.ts", "DOTS_WASM"],
  ["lib/forward.ts", "CONV_WASM"],
];

/** The ```wat block of the doc comment right before `const <constant> =`, and the constant's string. */
function embedded(text: string, constant: string): { wat: string; base64: string } {
  const at = text.indexOf(`const ${constant} =`);
  assert.ok(at >= 0, `const ${constant} not found`);
  const comment = text.slice(text.lastIndexOf("/**", at), at);
  const wat = comment.match(/```wat\n([\s\S]*?)\n\s*\* ```/)?.[1];
  assert.ok(wat, `no wat block in the doc comment of ${constant}`);
  const base64 = text.slice(at).match(/=\s*"([A-Za-z0-9+/=]+)"/)?.[1];
  assert.ok(base64, `${constant} is not a base64 string`);
  return { wat: wat.split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n"), base64 };
}

Deno.test("embedded WebAssembly equals its documented WAT source compiled by wabt 1.0.39", async () => {
  const wabt = await wabtInit();
  for (const [file, constant] of EMBEDDED) {
    const { wat, base64 } = embedded(await Deno.readTextFile(new URL(`../${file}`, import.meta.url)), constant);
    const module = wabt.parseWat(`${constant}.wat`, wat, { simd: true });
    module.validate();
    const { buffer } = module.toBinary({});
    module.destroy();
    const compiled = btoa(String.fromCharCode(...buffer));
    assert.equal(compiled, base64, `${file} ${constant}: the binary is not what its WAT compiles to`);
  }
});
