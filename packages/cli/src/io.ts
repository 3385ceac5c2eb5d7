/** Where a command writes: injected, so tests run commands without a process. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Exit codes, per the CLI contract. */
export const EXIT = { clean: 0, findings: 1, usage: 2, internal: 3 } as const;
