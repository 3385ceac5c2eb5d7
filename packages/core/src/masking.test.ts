import { describe, expect, it } from 'vitest';
import { maskingForms } from './masking.js';
import { addMaskCommands } from './runner/commands.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('maskingForms', () => {
  it('includes the value itself and its base64, base64url and URL-encoded forms', () => {
    const value = 'p@ss word/+?~>>';
    const forms = maskingForms(value);
    expect(forms).toContain(value);
    expect(forms).toContain(b64(value));
    expect(forms).toContain(b64url(value));
    expect(b64(value)).not.toBe(b64url(value));
    expect(forms).toContain(encodeURIComponent(value));
  });

  it('leaves out the URL-encoded form when it equals the value', () => {
    const value = 'plainToken123';
    expect(maskingForms(value)).toEqual(
      [value, b64(value), b64url(value)].sort((a, b) => b.length - a.length),
    );
  });

  it('masks each line of a multi-line value, with CRLF or LF endings', () => {
    const value = '-----BEGIN KEY-----\r\nMIIEvQIBADANBgkq\nhkiG9w0BAQEF\r\nAB==\n-----END KEY-----';
    const forms = maskingForms(value);
    for (const line of [
      '-----BEGIN KEY-----',
      'MIIEvQIBADANBgkq',
      'hkiG9w0BAQEF',
      'AB==',
      '-----END KEY-----',
    ]) {
      expect(forms).toContain(line);
    }
    expect(forms.some((form) => form !== value && /[\r\n]/.test(form))).toBe(false);
  });

  it('keeps 2- and 3-character lines but drops single characters and empty lines', () => {
    const forms = maskingForms('longfirstline\n\nab\nxyz\nq\n');
    expect(forms).toContain('ab');
    expect(forms).toContain('xyz');
    expect(forms).not.toContain('q');
    expect(forms).not.toContain('');
  });

  it('adds the base64 of lines of 8 characters or more, not of shorter ones', () => {
    const forms = maskingForms('12345678\n1234567');
    expect(forms).toContain(b64('12345678'));
    expect(forms).not.toContain(b64('1234567'));
  });

  it('masks every string and number leaf of a nested JSON object, but not its keys', () => {
    const value = JSON.stringify({
      client_id: 'client-abc',
      auth: { secret: 'nested-secret', pins: [1234, { deep: 'deepest-value' }] },
      enabled: true,
      nothing: null,
    });
    const forms = maskingForms(value);
    for (const leaf of ['client-abc', 'nested-secret', '1234', 'deepest-value']) {
      expect(forms).toContain(leaf);
    }
    for (const notMasked of ['client_id', 'auth', 'secret', 'true', 'null']) {
      expect(forms).not.toContain(notMasked);
    }
  });

  it('masks the leaves of a JSON array', () => {
    expect(maskingForms('["first-token", 98765]')).toEqual(expect.arrayContaining(['first-token', '98765']));
  });

  it('splits multi-line JSON string leaves into lines', () => {
    const forms = maskingForms(JSON.stringify({ key: 'line-one\nline-two' }));
    expect(forms).toContain('line-one');
    expect(forms).toContain('line-two');
    expect(forms).toContain('line-one\nline-two');
  });

  it('masks leaves of pretty-printed (multi-line) JSON as well as its lines', () => {
    const value = JSON.stringify({ token: 'abcdef123456' }, null, 2);
    const forms = maskingForms(value);
    expect(forms).toContain('abcdef123456');
    expect(forms).toContain('  "token": "abcdef123456"');
  });

  it('does not treat JSON scalars or invalid JSON as containers', () => {
    expect(maskingForms('"quoted"')).not.toContain('quoted');
    expect(maskingForms('{not json: "leafy"}')).not.toContain('leafy');
  });

  it('returns forms deduplicated and longest first, without empty strings', () => {
    const forms = maskingForms('same\nsame\nsame');
    expect(new Set(forms).size).toBe(forms.length);
    expect(forms.filter((form) => form === 'same')).toHaveLength(1);
    const lengths = forms.map((form) => form.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    expect(maskingForms('')).toEqual([]);
  });
});

describe('addMaskCommands', () => {
  it('emits one ::add-mask:: command per masking form', () => {
    const value = 'plainToken123';
    expect(addMaskCommands(value)).toEqual(maskingForms(value).map((form) => `::add-mask::${form}`));
  });

  it('escapes %, CR and LF the way the actions toolkit does', () => {
    const commands = addMaskCommands('50%off\r\nline2');
    expect(commands).toContain('::add-mask::50%25off%0D%0Aline2');
    expect(commands).toContain('::add-mask::50%25off');
    expect(commands.every((command) => !/[\r\n]/.test(command))).toBe(true);
  });
});
