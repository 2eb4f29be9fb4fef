/**
 * The reporter that names what a test file leaves running (test/harness/open-handles-reporter.js):
 * a server opened during a file is named with that file, a timer by its delay and code, and a run
 * that leaves nothing behind passes. Driven here as jest drives it, in this process.
 */
import net from 'node:net';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Reporter = require('../../harness/open-handles-reporter.js') as new () => {
  onRunStart(): Promise<void>;
  onTestFileStart(): void;
  onTestFileResult(test: { path: string }): void;
  onRunComplete(): Promise<void>;
  getLastError(): Error | undefined;
};

const quiet = jest.spyOn(console, 'error').mockImplementation(() => {});
afterAll(() => quiet.mockRestore());

/** A run started and a file under way that has opened a listening server. */
async function fileWithServer() {
  const reporter = new Reporter();
  await reporter.onRunStart();
  reporter.onTestFileStart();
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { reporter, server };
}

it('names the file that left a server listening, and a timer by its delay and code', async () => {
  const { reporter, server } = await fileWithServer();
  const timer = setInterval(function leftTicking() {}, 4321);
  try {
    reporter.onTestFileResult({ path: '/repo/test/left-open.test.ts' });
    await reporter.onRunComplete();
    const message = reporter.getLastError()?.message ?? '';
    const { port } = server.address() as net.AddressInfo;
    expect(message).toContain(`/repo/test/left-open.test.ts: left server listening on`);
    expect(message).toContain(`"port":${port}`);
    expect(message).toMatch(/4321 ms timer \(repeating\): function leftTicking\(\) \{ ?\}/);
  } finally {
    clearInterval(timer);
    await new Promise((resolve) => server.close(resolve));
  }
});

it('passes a run whose files closed what they opened', async () => {
  const { reporter, server } = await fileWithServer();
  const timer = setTimeout(() => {}, 4321);
  clearTimeout(timer);
  await new Promise((resolve) => server.close(resolve));
  reporter.onTestFileResult({ path: '/repo/test/tidy.test.ts' });
  await reporter.onRunComplete();
  expect(reporter.getLastError()).toBeUndefined();
});
