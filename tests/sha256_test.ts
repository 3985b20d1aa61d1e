/** lib/sha256.ts against FIPS 180-4's examples and WebCrypto on every length around the block boundaries. */
import assert from "node:assert/strict";
import { sha256Hex } from "../lib/sha256.ts";
import { mulberry32 } from "../lib/rng.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256Hex gives the FIPS 180-4 example digests", () => {
  assert.equal(sha256Hex(text("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex(text("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(
    sha256Hex(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256Hex equals WebCrypto's SHA-256 for lengths 0 … 200 and 100 kB", async () => {
  const random = mulberry32(7);
  const lengths = [...Array.from({ length: 201 }, (_, i) => i), 100_000];
  for (const length of lengths) {
    const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    assert.equal(sha256Hex(bytes), Array.from(expected, (b) => b.toString(16).padStart(2, "0")).join(""), `${length}`);
  }
});
