/**
 * `/docs/swagger.yaml`: a Swagger 2.0 description of what this API implements (gost's paths and
 * shapes), generated from the section list so that it cannot drift from the routes.
 * @module
 */
import { yaml } from "../config/yaml.ts";
import { SECTIONS } from "./config_ops.ts";

const ok = { description: "successful operation", schema: { $ref: "#/definitions/Response" } };
const err = (what: string) => ({ description: what, schema: { $ref: "#/definitions/Error" } });
const security = [{ basicAuth: [] }];

function sectionPaths(section: string, kind: string) {
  const tag = kind[0].toUpperCase() + kind.slice(1);
  const body = {
    name: "data",
    in: "body",
    required: true,
    description: `the ${kind}, as in a config file's ${section} list (JSON)`,
    schema: { type: "object" },
  };
  const name = { name: "name", in: "path", required: true, type: "string" };
  return {
    [`/config/${section}`]: {
      get: {
        tags: [tag],
        summary: `List the ${section}: data {count, list}.`,
        security,
        responses: { 200: { description: "data: {count, list}" } },
      },
      post: {
        tags: [tag],
        summary: `Create a ${kind}; its name must be new.`,
        security,
        parameters: [body],
        responses: {
          200: ok,
          400: err(
            "code 40001: invalid JSON or no name; 40002: the name exists; 40003: the resulting config does not validate or cannot start (nothing changed)",
          ),
        },
      },
    },
    [`/config/${section}/{name}`]: {
      get: {
        tags: [tag],
        summary: `The ${kind} called name: data (empty object when there is none).`,
        security,
        parameters: [name],
        responses: { 200: { description: "data: the entry" } },
      },
      put: {
        tags: [tag],
        summary: `Replace the ${kind} called name (live connections finish on the old one).`,
        security,
        parameters: [name, body],
        responses: { 200: ok, 400: err("code 40001: invalid JSON; 40003: refused change; 40004: not found") },
      },
      delete: {
        tags: [tag],
        summary: `Delete the ${kind} called name.`,
        security,
        parameters: [name],
        responses: { 200: ok, 400: err("code 40003: refused change; 40004: not found") },
      },
    },
  };
}

function document() {
  const paths: Record<string, unknown> = {
    "/config": {
      get: {
        tags: ["Config"],
        summary: "The running config, each running service with its status (state, events, stats).",
        security,
        parameters: [{
          name: "format",
          in: "query",
          type: "string",
          enum: ["json", "yaml"],
          default: "json",
        }],
        responses: { 200: { description: "the config" } },
      },
      post: {
        tags: ["Config"],
        summary: "Saving the config to a file: refused (gost-deno may write only /var/log/gost).",
        security,
        responses: { 500: err("code 40005") },
      },
    },
    "/config/reload": {
      post: {
        tags: ["Config"],
        summary: "Re-read the config sources, as SIGHUP does.",
        security,
        responses: { 200: ok, 500: err("code 40003: the config was refused; the running one stays") },
      },
    },
  };
  for (const [section, kind] of Object.entries(SECTIONS)) Object.assign(paths, sectionPaths(section, kind));
  return {
    swagger: "2.0",
    info: { title: "GOST API (gost-deno)", version: "3.2.6" },
    consumes: ["application/json"],
    produces: ["application/json"],
    securityDefinitions: { basicAuth: { type: "basic" } },
    paths,
    definitions: {
      Response: { type: "object", properties: { msg: { type: "string", example: "OK" } } },
      Error: {
        type: "object",
        properties: { code: { type: "integer", example: 40001 }, msg: { type: "string" } },
      },
    },
  };
}

let text: string | undefined;

/** The document as YAML (built once). */
export async function swaggerYaml(): Promise<string> {
  return text ??= (await yaml()).dump(document(), { indent: 2, lineWidth: -1, noRefs: true });
}
