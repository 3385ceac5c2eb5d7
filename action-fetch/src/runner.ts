// The runner's side of this action is core's one writer to the log (packages/core/src/runner),
// re-exported under the name fetch, cleanup and their tests import.
export { createRunner, type Runner } from '@keyfence/core';
