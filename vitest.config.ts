import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites start real servers and write thousands of objects over HTTP; the machines are shared.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Function logs are shown for failing tests only. What a suite must tell its reader either way
    // (reordering seen, a scenario not exercised) goes through test/support/report.ts, to stdout,
    // which this does not hide.
    silent: 'passed-only',
  },
});
