import { defineConfig } from 'vitest/config';

/**
 * The chat's suites that run in either mode, unchanged: the `web` project runs them again against
 * a web-mode local cloud (CHAT_MODE=web: one instance process per connection, rooms on Redis).
 */
const BOTH_MODES = ['test/integration/chat.test.ts', 'test/integration/chat-rooms.test.ts', 'test/browser/chat-page.test.ts'];

export default defineConfig({
  test: {
    // Suites start real servers and write thousands of objects over HTTP; the machines are shared.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Function logs are shown for failing tests only. What a suite must tell its reader either way
    // (reordering seen, a scenario not exercised) goes through test/support/report.ts, to stdout,
    // which this does not hide.
    silent: 'passed-only',
    projects: [
      // Every suite, in the mode it chooses: the configuration's (event) unless it asks for web.
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      // Against a deployed endpoint (WS_URL, as `npm run test:deployed` sets it) the suites run
      // once, in the mode it was deployed in: a second run would only repeat the first.
      ...(process.env.WS_URL ? [] : [{ extends: true as const, test: { name: 'web', include: BOTH_MODES, env: { CHAT_MODE: 'web' } } }]),
    ],
  },
});
