/**
 * Turning a node's or service's auth into a Shadowsocks method and key, with start-up
 * errors that name the supported methods.
 * @module
 */
import type { AuthConfig } from "../../config/types.ts";
import { ConfigError, errorMessage } from "../../core/errors.ts";
import { lookupMethod, type MethodInfo, methodKey, SUPPORTED_METHODS } from "./cipher.ts";
import { SaltFilter } from "./replay.ts";

/**
 * The method (auth username) and pre-shared key (password, or `key` when set) of an ss/ssu
 * component; a {@link ConfigError} under `path` when missing or wrong.
 */
export function ssKeys(
  auth: AuthConfig | undefined,
  key: string,
  path: string,
): { method: MethodInfo; psk: Uint8Array } {
  const name = auth?.username ?? "";
  const supported = SUPPORTED_METHODS.join(", ");
  if (!name) {
    throw new ConfigError(
      `${path}.auth`,
      `shadowsocks needs a method and password, e.g. ss://aes-256-gcm:password@:8388 (methods: ${supported})`,
    );
  }
  const method = lookupMethod(name);
  if (!method) {
    throw new ConfigError(
      `${path}.auth.username`,
      `unknown shadowsocks method "${name}" (supported: ${supported})`,
    );
  }
  const secret = key || (auth?.password ?? "");
  if (secret === "") {
    throw new ConfigError(`${path}.auth.password`, `shadowsocks method ${method.name} needs a password`);
  }
  try {
    return { method, psk: methodKey(method, secret) };
  } catch (err) {
    throw new ConfigError(`${path}.auth.password`, errorMessage(err));
  }
}

/** 2022 salts must be remembered at least 60 s; AEAD salts are bounded by count only. */
export function saltFilterFor(method: MethodInfo, capacity: number): SaltFilter {
  return new SaltFilter(capacity, method.edition === "2022" ? 60_000 : 0);
}
