import { compileAllowlist, type ScanConfig } from '../config.js';
import { Detector } from '../engine/detector.js';
import { BUILTIN_RULES } from './builtin.generated.js';
import { compileRule } from './compile.js';
import type { RuleSpec } from './types.js';

export { BUILTIN_RULES };

/** The rules a config selects: built-ins (unless turned off) plus its own, minus disabled ones. */
export function selectRules(config: ScanConfig): RuleSpec[] {
  const disabled = new Set(config.disabledRules);
  const own = new Set(config.rules.map((r) => r.id));
  const base = config.useDefaultRules ? BUILTIN_RULES.filter((r) => !own.has(r.id)) : [];
  return [...base, ...config.rules].filter((r) => !disabled.has(r.id));
}

/** A detector for a config. */
export function createDetector(config: ScanConfig): Detector {
  const own = new Set(config.rules);
  return new Detector(
    selectRules(config).map((spec) => compileRule(spec, own.has(spec))),
    {
      maxDecodeDepth: config.maxDecodeDepth,
      allowlist: compileAllowlist(config.allowlist),
      ...(config.fingerprint ? { fingerprint: config.fingerprint } : {}),
    },
  );
}
