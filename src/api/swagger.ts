/** placeholder */
export const SWAGGER_YAML = "";
