/** Escapes text for use inside an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch] ?? ch);
}

/** Characters XML 1.0 cannot carry, raw or as references: C0 controls but tab, LF and CR; U+FFFE and U+FFFF. */
const NON_XML_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** The first character of `text` that no XML 1.0 document can hold, as `U+XXXX`, or undefined. */
export function nonXmlCharacter(text: string): string | undefined {
  const found = NON_XML_CHARACTER.exec(text);
  return found ? 'U+' + found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') : undefined;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/**
 * Decodes the text content of one XML element: CDATA sections, the five named
 * entities and numeric character references. Returns undefined for an unknown entity.
 */
export function decodeXmlText(raw: string): string | undefined {
  let out = '';
  let rest = raw;
  while (rest.length > 0) {
    const cdata = rest.indexOf('<![CDATA[');
    const plain = cdata === -1 ? rest : rest.slice(0, cdata);
    const decoded = decodeEntities(plain);
    if (decoded === undefined) return undefined;
    out += decoded;
    if (cdata === -1) break;
    const end = rest.indexOf(']]>', cdata);
    if (end === -1) return undefined;
    out += rest.slice(cdata + 9, end);
    rest = rest.slice(end + 3);
  }
  return out;
}

function decodeEntities(text: string): string | undefined {
  let failed = false;
  const decoded = text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) {
      failed = true;
      return whole;
    }
    if (name in NAMED_ENTITIES) return NAMED_ENTITIES[name]!;
    const hex = /^#x([0-9a-f]+)$/i.exec(name);
    const dec = /^#([0-9]+)$/.exec(name);
    const codePoint = hex ? parseInt(hex[1]!, 16) : dec ? parseInt(dec[1]!, 10) : NaN;
    if (!Number.isInteger(codePoint) || codePoint > 0x10ffff) {
      failed = true;
      return whole;
    }
    return String.fromCodePoint(codePoint);
  });
  return failed ? undefined : decoded;
}

/** The XML declaration COS puts at the top of its responses. */
export const XML_DECLARATION = "<?xml version='1.0' encoding='utf-8' ?>";
