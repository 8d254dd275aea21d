/**
 * The Web API's changes to a config, as pure functions: create, update and delete a named entry
 * of a top-level section (services, chains, hops, authers, …). Each returns a new config — the
 * current one is never touched — or the API error gost answers (go-gost/x api/error.go codes).
 * @module
 */
import type { Config } from "../config/types.ts";

/** An API error: the HTTP status and gost's `{code, msg}` body. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

/** gost's error codes. */
export const CODE = { INVALID: 40001, DUP: 40002, FAILED: 40003, NOT_FOUND: 40004, SAVE: 40005 } as const;

/** Sections the API edits, with the singular gost's messages use. */
export const SECTIONS: Readonly<Record<string, string>> = {
  services: "service",
  chains: "chain",
  hops: "hop",
  authers: "auther",
  admissions: "admission",
  bypasses: "bypass",
  resolvers: "resolver",
  hosts: "hosts",
  limiters: "limiter",
  climiters: "limiter",
  rlimiters: "limiter",
};

type Entry = Record<string, unknown>;

function listOf(config: Config, section: string): Entry[] {
  const v = (config as Record<string, unknown>)[section];
  return Array.isArray(v) ? v as Entry[] : [];
}

function withList(config: Config, section: string, list: Entry[]): Config {
  const next = { ...config } as Record<string, unknown>;
  if (list.length) next[section] = list;
  else delete next[section];
  return next as Config;
}

function named(list: Entry[], name: string): number {
  return list.findIndex((e) => e && typeof e === "object" && e.name === name);
}

/** A request body as an entry: a JSON object (the kind names it in the message). */
export function parseBody(text: string, kind: string): Entry {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, CODE.INVALID, `invalid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new ApiError(400, CODE.INVALID, `expected a JSON object describing the ${kind}`);
  }
  return v as Entry;
}

/** `POST /config/<section>`: the config with `body` appended; its name must be new. */
export function createEntry(config: Config, section: string, body: Entry): { config: Config; name: string } {
  const kind = SECTIONS[section];
  const name = typeof body.name === "string" ? body.name.trim() : "";
  if (!name) throw new ApiError(400, CODE.INVALID, `${kind} name is required`);
  const list = listOf(config, section);
  if (named(list, name) >= 0) throw new ApiError(400, CODE.DUP, `${kind} ${name} already exists`);
  return { config: withList(config, section, [...list, { ...body, name }]), name };
}

/** `PUT /config/<section>/<name>`: the config with that entry replaced by `body` (named `name`). */
export function updateEntry(config: Config, section: string, name: string, body: Entry): Config {
  const kind = SECTIONS[section];
  const list = listOf(config, section);
  const i = named(list, name.trim());
  if (i < 0) throw new ApiError(400, CODE.NOT_FOUND, `${kind} ${name.trim()} not found`);
  const next = [...list];
  next[i] = { ...body, name: name.trim() };
  return withList(config, section, next);
}

/** `DELETE /config/<section>/<name>`: the config without that entry. */
export function deleteEntry(config: Config, section: string, name: string): Config {
  const kind = SECTIONS[section];
  const list = listOf(config, section);
  const i = named(list, name.trim());
  if (i < 0) throw new ApiError(400, CODE.NOT_FOUND, `${kind} ${name.trim()} not found`);
  return withList(config, section, list.filter((_, j) => j !== i));
}

/** `GET /config/<section>`: gost's `{count, list}`. */
export function listEntries(config: Config, section: string): { count: number; list: Entry[] } {
  const list = listOf(config, section);
  return { count: list.length, list };
}

/** `GET /config/<section>/<name>`: the entry, or undefined (gost then answers an empty body `{}`). */
export function getEntry(config: Config, section: string, name: string): Entry | undefined {
  const list = listOf(config, section);
  return list[named(list, name.trim())];
}
