/**
 * A self-contained HTML page of an OpenAPI document: no script, no stylesheet or font from
 * elsewhere, so it works offline. Schemas are shown as JSON with `$ref`s linked to their component.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObject(v) ? v : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const anchor = (text: string): string => text.replace(/[^A-Za-z0-9_-]+/g, '-');

/** Inline code spans (`x`) of descriptions, escaped. */
const prose = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function schemaHtml(schema: unknown): string {
  const json = escapeHtml(JSON.stringify(schema, null, 2));
  return `<pre>${json.replace(
    /&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g,
    (_m, id: string) => `<a href="#schema-${anchor(id)}">&quot;#/components/schemas/${id}&quot;</a>`,
  )}</pre>`;
}

function contentHtml(content: unknown): string {
  return Object.entries(obj(content))
    .map(
      ([type, media]) =>
        `<div class="media"><b>${escapeHtml(type)}</b>${schemaHtml(obj(media)['schema'])}</div>`,
    )
    .join('');
}

function parametersHtml(parameters: unknown): string {
  if (!Array.isArray(parameters) || parameters.length === 0) return '';
  const rows = parameters
    .map((p) => {
      const param = obj(p);
      const schema = obj(param['schema']);
      const type = str(schema['type']) || (schema['anyOf'] ? 'union' : '');
      return `<tr><td><code>${escapeHtml(str(param['name']))}</code></td><td>${escapeHtml(str(param['in']))}</td><td>${escapeHtml(type)}</td><td>${param['required'] === true ? 'yes' : ''}</td><td>${prose(str(schema['description']) || str(param['description']))}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th></th></tr>${rows}</table>`;
}

function operationHtml(path: string, method: string, op: Json): string {
  const id = anchor(`${method}-${path}`);
  const body = obj(op['requestBody']);
  const responses = Object.entries(obj(op['responses']))
    .map(([status, r]) => {
      const response = obj(r);
      return `<details><summary><span class="status s${status.charAt(0)}">${escapeHtml(status)}</span> ${prose(str(response['description']))}</summary>${contentHtml(response['content'])}</details>`;
    })
    .join('');
  return `<section id="${id}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${prose(str(op['summary']))}</p>${op['description'] ? `<p>${prose(str(op['description']))}</p>` : ''}
${parametersHtml(op['parameters'])}
${Object.keys(body).length ? `<details open><summary>request body</summary>${contentHtml(body['content'])}</details>` : ''}
${responses}
</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
main{max-width:980px;margin:0 auto;padding:24px}h1{margin-bottom:0}nav{columns:2;font-size:14px}
section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:4px 16px 12px;margin:14px 0}
.method{display:inline-block;min-width:62px;text-align:center;border-radius:4px;color:#fff;font-size:13px;padding:2px 6px}
.get{background:#2f7d4f}.post{background:#2b5fb8}.put{background:#a06a00}.patch{background:#7a4fb3}.delete{background:#b83a2b}
.status{font-weight:600}.s2{color:#2f7d4f}.s4{color:#b83a2b}.s5{color:#7a1010}
pre{background:#f3f5f8;padding:8px;border-radius:6px;overflow:auto;font-size:12.5px;max-height:420px}
table{border-collapse:collapse;font-size:14px}td,th{border-bottom:1px solid #e4e8ee;padding:3px 10px;text-align:left}
summary{cursor:pointer;margin:4px 0}a{color:#2b5fb8}.media b{font-size:13px}`;

/** The HTML page of `document` (an OpenAPI 3.x object). */
export function renderDocsPage(document: unknown): string {
  const doc = obj(document);
  const info = obj(doc['info']);
  const operations: Array<{ path: string; method: string; op: Json }> = [];
  for (const [path, item] of Object.entries(obj(doc['paths']))) {
    for (const [method, op] of Object.entries(obj(item))) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        operations.push({ path, method, op: obj(op) });
    }
  }
  const nav = operations
    .map(
      ({ path, method }) =>
        `<div><a href="#${anchor(`${method}-${path}`)}">${method.toUpperCase()} ${escapeHtml(path)}</a></div>`,
    )
    .join('');
  const schemas = Object.entries(obj(obj(doc['components'])['schemas']))
    .map(
      ([id, schema]) =>
        `<section id="schema-${anchor(id)}"><h3>${escapeHtml(id)}</h3>${schemaHtml(schema)}</section>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(str(info['title']))}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(str(info['title']))} <small>${escapeHtml(str(info['version']))}</small></h1>
<p>${prose(str(info['description']))}</p>
<p>OpenAPI ${escapeHtml(str(doc['openapi']))} — the machine-readable document is at <a href="openapi.json">openapi.json</a>.</p>
<h2>Endpoints</h2><nav>${nav}</nav>
${operations.map(({ path, method, op }) => operationHtml(path, method, op)).join('\n')}
<h2>Schemas</h2>${schemas}
</main></body></html>`;
}
