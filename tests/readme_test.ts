/**
 * README.md runs as pasted: every code block right after an `<!-- test -->` comment is run in order
 * from the repository folder (```sh with bash, ```ts with `deno eval`, ```js with Node.js on the built
 * bundle), and must exit 0 without changing `git status`. The demo output it shows is the demo's
 * output, and the numbers it quotes are those scripts/readme_numbers.ts reads from results/.
 */
import assert from "node:assert/strict";
import { readmeNumbers } from "../scripts/readme_numbers.ts";
import { ensureBuilt, needsNode } from "./_bundle.ts";
import { gitStatus } from "./_helpers.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const README = Deno.readTextFileSync(`${ROOT}/README.md`);

/** A fenced code block of README.md: its language, its code, and whether `<!-- test -->` marks it. */
export interface CodeBlock {
  lang: string;
  code: string;
  runnable: boolean;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown text, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== "```") j++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    out.push({
      lang: open[1],
      code: lines.slice(i + 1, j).join("\n") + "\n",
      runnable: k >= 0 && lines[k].trim() === "<!-- test -->",
      line: i + 1,
    });
    i = j;
  }
  return out;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const denoDir = Deno.execPath().replace(/\/[^/]*$/, "");
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    // The README's commands call `deno`: the one running this test.
    env: { NO_COLOR: "1", PATH: `${denoDir}:${Deno.env.get("PATH") ?? ""}` },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("codeBlocks() finds fenced blocks and the <!-- test --> mark before them", () => {
  const md = "text\n\n<!-- test -->\n\n```sh\necho hi\n```\n\n```ts\nconst x = 1;\n```\n";
  assert.deepEqual(codeBlocks(md), [
    { lang: "sh", code: "echo hi\n", runnable: true, line: 5 },
    { lang: "ts", code: "const x = 1;\n", runnable: false, line: 9 },
  ]);
});

Deno.test("README's marked code blocks run as pasted and leave git status unchanged", async (t) => {
  const blocks = codeBlocks(README).filter((b) => b.runnable);
  assert.ok(blocks.length >= 5, `${blocks.length} runnable blocks`);
  const node = await needsNode();
  const before = await gitStatus();
  for (const block of blocks) {
    await t.step({
      name: `README.md:${block.line} (${block.lang})`,
      ignore: block.lang === "js" && node.ignore,
      fn: async () => {
        let result;
        if (block.lang === "sh") result = await run("bash", ["-euo", "pipefail", "-c", block.code]);
        else if (block.lang === "ts") result = await run(Deno.execPath(), ["eval", "--ext=ts", block.code]);
        else if (block.lang === "js") {
          await ensureBuilt();
          result = await run("node", ["--input-type=module", "-e", block.code]);
        } else throw new Error(`README.md:${block.line}: cannot run a ${block.lang} block`);
        assert.equal(result.code, 0, `README.md:${block.line}\n${result.stdout}\n${result.stderr}`);
        if (block.code.includes("lib/infer.ts examples/synthetic_murmur.wav examples/")) {
          // The file named directly and again inside examples/ is classified once per command.
          assert.equal(result.stdout.split("synthetic_murmur.wav").length - 1, 3, result.stdout);
        }
      },
    });
  }
  assert.equal(await gitStatus(), before, "a README command changed files in the checkout");
});

Deno.test("README's demo output is what `deno task demo` prints", async () => {
  const shown = codeBlocks(README).find((b) => b.lang === "text" && b.code.includes("Bundled examples"));
  assert.ok(shown, "no demo output block");
  const demo = await run(Deno.execPath(), ["run", "-R", "lib/infer.ts", "--demo"]);
  assert.equal(demo.code, 0, demo.stderr);
  assert.equal(demo.stdout, shown.code);
});

Deno.test("README quotes the numbers of scripts/readme_numbers.ts", () => {
  const prose = README.replace(/\s+/g, " ");
  const missing = readmeNumbers()
    .filter(({ name }) => name !== "bundle size") // depends on a local build; printed by `deno task build`
    .filter(({ text }) => !prose.includes(text));
  assert.deepEqual(missing, []);
});
