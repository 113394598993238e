import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites start real servers and write thousands of objects over HTTP; the machines are shared.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Function logs are shown for failing tests only.
    silent: 'passed-only',
  },
});
