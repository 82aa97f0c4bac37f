// Minimal typing of the os-types package (columnType -> FDP model), as used by descriptor.ts.
declare module 'os-types' {
  interface OsTypesErrors {
    general: string[];
    perField: Record<string, string[]>;
  }
  interface OsTypesResult {
    model?: { dimensions: Record<string, unknown>; measures: Record<string, unknown> };
    schema?: { fields: Record<string, { type: string; format?: string; [key: string]: unknown }>; primaryKey: string[] };
    errors?: OsTypesErrors;
    promise?: Promise<unknown>;
  }
  class TypeProcessor {
    /** Type name -> definition (os-types.json plus its placeholders); replaceable per processor. */
    types: Record<string, import('./taxonomy.ts').OsTypeDefinition>;
    fieldsToModel(fields: Array<Record<string, unknown>>): OsTypesResult;
  }
  export default TypeProcessor;
}
