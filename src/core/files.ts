/**
 * Reading the files a config names (certificates, keys, authorized keys, kcp settings): one place
 * so that every such failure is an {@link UnreadableFileError}, which `-O` reports as a warning.
 * @module
 */
import { errorMessage, UnreadableFileError } from "./errors.ts";

/**
 * Reads `file` as text; `path` locates the option in the config, `what` names the file's role
 * in the message (`cannot read private key "id_ed25519": …`).
 */
export function readConfigFile(file: string, path: string, what = ""): string {
  try {
    return Deno.readTextFileSync(file);
  } catch (err) {
    const role = what ? `${what} ` : "";
    throw new UnreadableFileError(
      path,
      file,
      `cannot read ${role}${JSON.stringify(file)}: ${errorMessage(err)}`,
    );
  }
}

/**
 * Runs every read even when an earlier one fails, so that one config error names every
 * unreadable file of a component (in `others`); any other error is thrown at once.
 */
export function readEach<T extends unknown[]>(...reads: { [K in keyof T]: () => T[K] }): T {
  const failed: UnreadableFileError[] = [];
  const out = reads.map((read) => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof UnreadableFileError)) throw err;
      failed.push(err);
    }
  });
  if (failed.length) {
    failed[0].others.push(...failed.slice(1));
    throw failed[0];
  }
  return out as T;
}
