/**
 * Renders an OpenAPI 3.1 document as one static HTML page: every operation
 * with its parameters, request body and responses. Pure; no I/O.
 */

interface Schemaish {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  items?: Schemaish;
  properties?: Record<string, Schemaish>;
  required?: string[];
  $ref?: string;
  anyOf?: Schemaish[];
  oneOf?: Schemaish[];
  additionalProperties?: boolean | Schemaish;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: Schemaish;
    content?: Record<string, { schema?: Schemaish }>;
  }>;
  requestBody?: { description?: string; content?: Record<string, { schema?: Schemaish }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schemaish }> }>;
}

export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation> | undefined>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'] as const;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function describeSchema(schema: Schemaish | undefined, depth = 0): string {
  if (!schema) return '';
  if (schema.$ref) return escapeHtml(schema.$ref.split('/').pop() ?? schema.$ref);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return alternatives.map((s) => describeSchema(s, depth)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  if (schema.enum) return schema.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' | ');
  if (type === 'array') return `array of ${describeSchema(schema.items, depth)}`;
  if (type === 'object' && schema.properties && depth < 4) {
    const rows = Object.entries(schema.properties)
      .map(([name, prop]) => {
        const req = schema.required?.includes(name) ? ' <em>required</em>' : '';
        const desc = prop.description ? ` — ${escapeHtml(prop.description)}` : '';
        return `<li><code>${escapeHtml(name)}</code>: ${describeSchema(prop, depth + 1)}${req}${desc}</li>`;
      })
      .join('');
    return `object<ul>${rows}</ul>`;
  }
  return escapeHtml(type);
}

function renderOperation(method: string, path: string, op: Operation): string {
  const params = (op.parameters ?? [])
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td>${p.schema ? describeSchema(p.schema) : `JSON-encoded ${describeSchema(p.content?.['application/json']?.schema)}`}</td><td>${escapeHtml(p.description ?? '')}</td></tr>`,
    )
    .join('');
  const body = op.requestBody?.content
    ? Object.entries(op.requestBody.content)
        .map(([type, c]) => `<p>Body (<code>${escapeHtml(type)}</code>): ${describeSchema(c.schema)}</p>`)
        .join('')
    : '';
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => {
      const content = r.content
        ? Object.entries(r.content)
            .map(([type, c]) => ` <code>${escapeHtml(type)}</code> ${describeSchema(c.schema)}`)
            .join('')
        : '';
      return `<li><strong>${escapeHtml(status)}</strong> ${escapeHtml(r.description ?? '')}${content}</li>`;
    })
    .join('');
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  return `<section id="${escapeHtml(id)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
${op.summary ? `<p><strong>${escapeHtml(op.summary)}</strong></p>` : ''}${op.description ? `<p>${escapeHtml(op.description)}</p>` : ''}
${params ? `<table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>${params}</table>` : ''}
${body}<ul class="responses">${responses}</ul></section>`;
}

export function renderApiReference(input: object): string {
  // The generator's types are wider than what we read; we only read the fields below.
  const doc = input as OpenApiDocument;
  const sections: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!item) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
      toc.push(`<li><a href="#${escapeHtml(id)}">${method.toUpperCase()} ${escapeHtml(path)}</a></li>`);
      sections.push(renderOperation(method, path, op));
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)} API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
section{border-top:1px solid #ccc;margin-top:1.5rem}.m{font-size:.8em;padding:.1em .4em;border-radius:3px;color:#fff;background:#555}
.m.get{background:#2a7}.m.post{background:#27a}</style></head><body>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${escapeHtml(doc.info.description ?? '')}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<h2>Endpoints</h2><ul>${toc.join('')}</ul>${sections.join('\n')}</body></html>`;
}
