import { describe, expect, it } from 'vitest';
import { addedLines, blobEncoding, decodeUtf16 } from './git-blob.js';

const le = (text: string): Buffer => Buffer.from(text, 'utf16le');
const be = (text: string): Buffer => Buffer.from(le(text)).swap16();

describe('blobEncoding', () => {
  it('tells UTF-16 by its byte-order mark or its NUL pattern, and anything else is binary', () => {
    expect(blobEncoding(le('\uFEFFhello world'))).toBe('utf16le');
    expect(blobEncoding(be('\uFEFFhello world'))).toBe('utf16be');
    expect(blobEncoding(le('plain ascii text, no mark'))).toBe('utf16le');
    expect(blobEncoding(be('plain ascii text, no mark'))).toBe('utf16be');
    expect(blobEncoding(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]))).toBe(
      'binary',
    );
    expect(blobEncoding(Buffer.from([0, 1]))).toBe('binary');
  });
});

describe('decodeUtf16', () => {
  it('decodes both byte orders and drops the mark', () => {
    expect(decodeUtf16(le('\uFEFFnaïve ✓'), 'utf16le')).toBe('naïve ✓');
    expect(decodeUtf16(be('\uFEFFnaïve ✓'), 'utf16be')).toBe('naïve ✓');
  });
});

describe('addedLines', () => {
  it('keeps the lines the older versions do not have, with their line numbers', () => {
    expect(addedLines('a\r\nb\r\nnew\r\nb\r\n', ['a\nb\n'])).toEqual({
      lines: ['new', 'b'],
      lineNumbers: [3, 4],
    });
    expect(addedLines('x\ny', [])).toEqual({ lines: ['x', 'y'], lineNumbers: [1, 2] });
  });
});
