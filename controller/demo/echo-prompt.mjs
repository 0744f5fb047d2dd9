// The demo command of `npm run controller`: prints its prompt (argv[2]) line by line, a
// few "working" steps 0.4 s apart, then exits 0 — or with the number after `exit=` in the
// prompt (`exit=3`), to show a failed run. Plain Node, no shell.
const prompt = process.argv[2] ?? '';
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.stdout.write(`${line}\n`);
say(`received a prompt of ${prompt.length} characters`);
for (const line of prompt.split('\n')) {
  say(`> ${line}`);
  await wait(400);
}
for (let step = 1; step <= 5; step++) {
  say(`working… step ${step}/5`);
  await wait(400);
}
const code = Number(/\bexit=(\d{1,3})\b/.exec(prompt)?.[1] ?? 0);
if (code) console.error(`giving up with exit code ${code}`);
else say('done');
process.exit(code);
