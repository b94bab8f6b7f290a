// The API reference: renders /api/openapi.json grouped by tag. Served by kadr itself, so the
// page works offline and under the same Content-Security-Policy as the rest of Kadr.
'use strict';

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function resolve(doc, schema, depth) {
  if (!schema || depth > 6) return schema;
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop();
    const target = (doc.components && doc.components.schemas || {})[name];
    return target ? resolve(doc, target, depth + 1) : schema;
  }
  const out = Array.isArray(schema) ? [] : {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = v && typeof v === 'object' ? resolve(doc, v, depth + 1) : v;
  }
  return out;
}

function schemaBlock(doc, content) {
  if (!content) return null;
  const parts = [];
  for (const [type, media] of Object.entries(content)) {
    parts.push(el('div', {}, el('code', {}, type)));
    if (media.schema) {
      parts.push(el('pre', {}, JSON.stringify(resolve(doc, media.schema, 0), null, 2)));
    }
  }
  return el('div', {}, ...parts);
}

function operation(doc, path, method, op) {
  const params = (op.parameters || []).map((p) =>
    el('tr', {}, el('td', {}, el('code', {}, p.name)), el('td', {}, p.in),
      el('td', {}, p.required ? 'required' : ''), el('td', {}, p.description || '')));
  const responses = Object.entries(op.responses || {}).map(([status, r]) =>
    el('tr', {}, el('td', {}, el('code', {}, status)), el('td', {}, r.description || ''),
      el('td', {}, schemaBlock(doc, r.content))));
  const secured = (op.security || []).length > 0;
  return el('details', { id: (op.operationId || method + path) },
    el('summary', {}, el('span', { class: 'm ' + method }, method), el('code', {}, path), ' ',
      op.summary || '', secured ? el('span', { class: 'lock' }, '  (bearer token)') : null),
    op.description ? el('p', {}, op.description) : null,
    params.length ? el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'),
      el('th', {}, ''), el('th', {}, '')), ...params) : null,
    op.requestBody ? el('div', {}, el('h4', {}, 'Request body'), schemaBlock(doc, op.requestBody.content)) : null,
    el('h4', {}, 'Responses'),
    el('table', {}, ...responses));
}

async function main() {
  const ops = document.getElementById('ops');
  const toc = document.getElementById('toc');
  let doc;
  try {
    const res = await fetch('/api/openapi.json');
    doc = await res.json();
  } catch (e) {
    ops.textContent = 'The API document could not be loaded: ' + e;
    return;
  }
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== 'object' || !op.responses) continue;
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(doc, path, method, op));
    }
  }
  ops.replaceChildren();
  const described = new Map((doc.tags || []).map((t) => [t.name, t.description]));
  for (const [tag, list] of byTag) {
    toc.append(el('a', { href: '#tag-' + tag }, tag));
    ops.append(el('h2', { id: 'tag-' + tag }, tag));
    if (described.get(tag)) ops.append(el('p', {}, described.get(tag)));
    ops.append(...list);
  }
}

main();
