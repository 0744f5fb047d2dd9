// `npm run controller`: one controller on this computer for trying things out, with the demo
// command (demo/echo-prompt.mjs) for CLI runs and every agent's sessions. Whatever is set in
// the environment wins; the rest defaults to 127.0.0.1:8788, the token `dev-controller-token`
// and the data folder .data/controller.
import { fileURLToPath } from 'node:url';

const echo = fileURLToPath(new URL('./echo-prompt.mjs', import.meta.url));
const command = JSON.stringify([process.execPath, echo, '{prompt}']);
const defaults: Record<string, string> = {
  FLEETWARDEN_CONTROLLER_TOKEN: 'dev-controller-token',
  FLEETWARDEN_CONTROLLER_HOST: '127.0.0.1',
  FLEETWARDEN_CONTROLLER_PORT: '8788',
  FLEETWARDEN_CONTROLLER_DATA_DIR: '.data/controller',
  FLEETWARDEN_CONTROLLER_CLI_COMMAND: command,
  FLEETWARDEN_CONTROLLER_SESSION_COMMAND: command,
  FLEETWARDEN_CONTROLLER_GRACE_PERIOD_SECONDS: '3',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
await import('../src/main.ts');
