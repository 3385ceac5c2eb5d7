import { maskingForms } from '../masking.js';
import { neutraliseLegacyMarkers, renderUntrusted } from './render.js';

// Workflow commands, built only here. The runner unescapes %25, %0D and %0A in the data, and
// also %3A and %2C in property values (`:` would end the property list, `,` would split it).

/** Escapes a workflow command's data (after the second `::`). */
export function escapeCommandData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** Escapes a workflow command's property value. */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** Where an annotation points, as the toolkit names it (`startLine` is written `line`, `startColumn` `col`). */
export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

export type AnnotationLevel = 'error' | 'warning' | 'notice';

const PROPERTY_NAMES: Record<keyof AnnotationProperties, string> = {
  title: 'title',
  file: 'file',
  startLine: 'line',
  endLine: 'endLine',
  startColumn: 'col',
  endColumn: 'endColumn',
};

/** One `::name k=v,k=v::data` line (no line break): name is keyfence's own, properties and data escaped. */
export function workflowCommand(name: string, properties: Record<string, string>, data: string): string {
  const props = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeCommandProperty(value)}`)
    .join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeCommandData(data)}`;
}

/**
 * An annotation command. The message and title are display text: `##[` in them is neutralised.
 * A file name holding `##[` cannot be named exactly without leaving `##[` in the log, so such an
 * annotation is not pinned: the rendered path and line go into the message instead.
 */
export function annotationCommand(
  level: AnnotationLevel,
  message: string,
  properties: AnnotationProperties = {},
): string {
  let text = neutraliseLegacyMarkers(message);
  let pinned: AnnotationProperties = properties;
  if (properties.file?.includes('##[')) {
    const { file, startLine, endLine, startColumn, endColumn, ...rest } = properties;
    text += ` (in ${renderUntrusted(file)}${startLine === undefined ? '' : `:${startLine}`})`;
    pinned = rest;
  }
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(pinned) as [keyof AnnotationProperties, string | number][]) {
    if (value === undefined) continue;
    props[PROPERTY_NAMES[key]] = key === 'title' ? neutraliseLegacyMarkers(String(value)) : String(value);
  }
  return workflowCommand(level, props, text);
}

/** The `::add-mask::` workflow commands that register every masking form of the value. */
export function addMaskCommands(value: string): string[] {
  return maskingForms(value).map((form) => workflowCommand('add-mask', {}, form));
}
