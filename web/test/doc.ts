// The server's OpenAPI document as the tests read it: straight from openapi.json, apart from
// the import that src/limits.ts reads it through, so each limit the UI uses can be compared
// with the document's.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Property {
  enum?: (string | null)[];
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  items?: Property;
}

const doc = JSON.parse(readFileSync(join(import.meta.dirname, "../openapi.json"), "utf8")) as {
  components: { schemas: Record<string, { properties: Record<string, Property> }> };
};

/** `schema`'s property `name`; fails the test when the document has no such property. */
export function property(schema: string, name: string): Property {
  const p = doc.components.schemas[schema]?.properties[name];
  if (!p) throw new Error(`openapi.json: no ${schema}.${name}`);
  return p;
}

/** The values of a property's enum, without the `null` of an optional one. */
export function choices(schema: string, name: string): string[] {
  const values = property(schema, name).enum;
  if (!values) throw new Error(`openapi.json: ${schema}.${name} has no enum`);
  return values.filter((v): v is string => v !== null);
}
