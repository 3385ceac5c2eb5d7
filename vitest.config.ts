import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

// vitest reads the default export of its config file.
// biome-ignore lint/style/noDefaultExport: required by vitest
export default config;
