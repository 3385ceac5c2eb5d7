// The runner's side of this action is core's one writer to the log; re-exported under the names
// fetch, cleanup and their tests already use.
export { createRunner, escapeCommandData as escapeData, keyValueMessage, type Runner } from '@keyfence/core';
