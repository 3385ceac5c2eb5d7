import type { RuleSpec } from './types.js';
export const BUILTIN_RULES: RuleSpec[] = [];
