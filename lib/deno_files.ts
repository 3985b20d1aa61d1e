/**
 * Reading files under Deno, shared by the CLI (lib/infer.ts) and model folders (lib/model_folder.ts): why a read
 * failed in a few words, and reads of regular files only, bounded in length.
 * @module
 */

/** Why a file cannot be read, in a few words: an OS refusal (EACCES) and Deno's own permission refusal differ. */
export function fileErrorText(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.NotCapable) {
    // Deno's own permissions: -R covers ordinary files; devices such as /dev/stdin need -A, so say what to do instead
    return /--allow-all/.test(firstLine(error))
      ? "Deno allows this path only with --allow-all; save it to a regular file"
      : "read access not granted (run with -R)";
  }
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return firstLine(error);
}

/** Why `info` is not a regular file, or null when it is. */
export function notRegularFileText(info: Deno.FileInfo): string | null {
  if (info.isFile) return null;
  return info.isDirectory ? "is a directory" : "not a regular file (a pipe, socket or device)";
}

/** Up to `length` bytes from the file's current position (fewer at its end). */
export function readAtMost(file: Deno.FsFile, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = file.readSync(out.subarray(at));
    if (n === null) break;
    at += n;
  }
  return out.subarray(0, at);
}

/** The first line of an error's message. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].trim() || "unknown error";
}
