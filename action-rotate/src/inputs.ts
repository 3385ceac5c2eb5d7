import { getInput } from '@actions/core';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type AwsRoleInputs, readIdentityInputs, type VaultLoginInputs } from '@keyfence/identity';
import type { RotateMode } from '@keyfence/rotation';

/** The action's inputs, parsed once and checked (see action.yml for each one's meaning). */
export interface RotateInputs {
  /** The runbook file, as written in the workflow (relative to the workspace). */
  runbooks: string;
  /** Runbook names or globs; empty for every runbook. */
  only: string[];
  mode: RotateMode;
  auditFile?: string;
  /** The identity inputs shared with action-fetch (`role-to-assume`, ..., `url`, `method`, `role`, `path`). */
  aws: AwsRoleInputs;
  vault?: VaultLoginInputs;
}

// YAML 1.2 core schema booleans, as the toolkit's getBooleanInput accepts them.
const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** Reads the inputs from the runner's `INPUT_*` variables; every problem is reported at once, naming its input. */
export function readInputs(): RotateInputs {
  const problems: string[] = [];
  const boolean = (name: string): boolean => {
    const value = getInput(name);
    if (value === '' || FALSE.includes(value)) return false;
    if (TRUE.includes(value)) return true;
    problems.push(
      `input "${name}" must be a YAML 1.2 boolean, true | True | TRUE | false | False | FALSE (got "${value}")`,
    );
    return false;
  };

  const runbooks = getInput('runbooks');
  if (runbooks === '') problems.push('input "runbooks" is required: the path of the runbook file');
  const only = getInput('only')
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const dryRun = boolean('dry-run');
  const rollback = boolean('rollback');
  if (dryRun && rollback)
    problems.push('inputs "dry-run" and "rollback" do not go together: run one, then the other');
  const auditFile = getInput('audit-file');
  const identity = readIdentityInputs(getInput, process.env);
  for (const problem of identity.problems) problems.push(problem.replace(/^([\w-]+): /, 'input "$1": '));

  if (problems.length > 0) {
    throw new KeyfenceError(ErrorCode.USAGE, problems.join('\n'), {
      hint: 'fix the input under `with:` in the workflow; keyfence docs/action-rotate.md lists every input and its default',
    });
  }
  return {
    runbooks,
    only,
    mode: dryRun ? 'plan' : rollback ? 'rollback' : 'rotate',
    ...(auditFile === '' ? {} : { auditFile }),
    aws: identity.aws,
    ...(identity.vault === undefined ? {} : { vault: identity.vault }),
  };
}
