import { parseDocument } from 'htmlparser2';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';

/** One element of rendered HTML: its tag, attributes and text content. */
export interface HtmlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
}

/** Markdown to HTML as a GFM renderer does it; raw HTML is passed through, as GitHub passes `<code>` and `<br>`. */
export function renderGfm(markdown: string): string {
  return micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

interface DomNode {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: DomNode[];
}

function textOf(node: DomNode): string {
  if (node.type === 'text') return node.data ?? '';
  return (node.children ?? []).map(textOf).join('');
}

/** Every element in an HTML document, in document order, parsed by a real HTML parser. */
export function htmlElements(html: string): HtmlElement[] {
  const out: HtmlElement[] = [];
  const walk = (node: DomNode): void => {
    if (node.type === 'tag' || node.type === 'script' || node.type === 'style') {
      out.push({ name: node.name ?? '', attributes: { ...(node.attribs ?? {}) }, text: textOf(node) });
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(parseDocument(html) as unknown as DomNode);
  return out;
}

/** The text a reader sees in rendered HTML (tags dropped, entities decoded). */
export function htmlText(html: string): string {
  return textOf(parseDocument(html) as unknown as DomNode);
}

/** A job summary as a reader sees it: rendered by a GFM renderer, tags dropped. */
export function renderedText(markdown: string): string {
  return htmlText(renderGfm(markdown));
}
