// A CDA document shown from its narrative (each section's title and <text>), as untrusted
// content: the narrative is turned into HTML, sanitised by DOMPurify (no script, no event
// handler, no image, link or frame, no style), and the page shows it in a sandboxed iframe
// (no scripts, opaque origin) under the gateway's CSP, which the frame inherits.
import DOMPurify from 'dompurify';

const RENAME: Record<string, string> = {
  paragraph: 'p',
  content: 'span',
  caption: 'caption',
  item: 'li',
  footnote: 'small',
  linkHtml: 'span',
  renderMultiMedia: 'span',
};

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

// The narrative's elements with the HTML names they correspond to; any other element and
// every attribute is kept as it is, for the sanitiser to judge.
function toHtml(node: Node): string {
  if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.CDATA_SECTION_NODE) return escapeText(node.nodeValue || '');
  if (node.nodeType !== Node.ELEMENT_NODE) return '';
  const el = node as Element;
  let name = el.localName;
  if (name === 'list') name = el.getAttribute('listType') === 'ordered' ? 'ol' : 'ul';
  else name = RENAME[name] || name;
  const attrs = Array.from(el.attributes)
    .map((a) => ` ${a.localName}="${escapeAttr(a.value)}"`)
    .join('');
  const inner = Array.from(el.childNodes).map(toHtml).join('');
  return `<${name}${attrs}>${inner}</${name}>`;
}

export function narrativeHtml(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return '<p>Ce document ne peut pas être lu.</p>';
  const parts: string[] = [];
  const title = doc.getElementsByTagNameNS('*', 'title')[0];
  if (title) parts.push(`<h1>${escapeText(title.textContent || '')}</h1>`);
  for (const section of Array.from(doc.getElementsByTagNameNS('*', 'section'))) {
    const t = Array.from(section.children).find((c) => c.localName === 'title');
    const text = Array.from(section.children).find((c) => c.localName === 'text');
    if (t) parts.push(`<h2>${escapeText(t.textContent || '')}</h2>`);
    if (text) parts.push(`<div class="section">${Array.from(text.childNodes).map(toHtml).join('')}</div>`);
  }
  return parts.join('\n') || '<p>Ce document ne contient pas de texte lisible.</p>';
}

export function sanitise(html: string): string {
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'img', 'image', 'link', 'a', 'form', 'input', 'button', 'iframe', 'frame', 'object',
      'embed', 'svg', 'math', 'video', 'audio', 'source', 'picture', 'base', 'meta'],
    FORBID_ATTR: ['style', 'src', 'srcset', 'href', 'xlink:href', 'action', 'background', 'poster'],
    ALLOW_DATA_ATTR: false,
  });
}

// The whole document put into the sandboxed frame (srcdoc).
export function frameDocument(xml: string): string {
  const body = sanitise(narrativeHtml(xml));
  const origin = window.location.origin;
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${origin}">` +
    `<link rel="stylesheet" href="${origin}/espace/narrative.css"></head><body>${body}</body></html>`;
}
