// src/exec.ts: every child runs in its own session, so a terminal's Ctrl-C (SIGINT to the foreground
// process group) or hang-up never reaches it — only the tool decides — and it never outlives the tool:
// killed when the tool exits, and when a signal nobody handles ends the tool.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/exec.js';

const EXEC_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/exec.js');

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, …]. */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] !== 'Z';

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runProgram', () => {
  it('starts each child as the leader of its own session and process group, apart from the tool', async () => {
    const r = await runProgram('sh', ['-c', 'cat /proc/$$/stat']);
    const [, , pgrp, session] = statFields(r.stdout.toString('utf8'));
    const [, , ownPgrp, ownSession] = statFields(readFileSync('/proc/self/stat', 'utf8'));
    assert.notEqual(session, ownSession);
    assert.notEqual(pgrp, ownPgrp);
    assert.equal(pgrp, session, 'the child leads its session (setsid)');
  });

  for (const end of ['exit', 'SIGTERM'] as const) {
    it(`a child still running when the tool ends (${end === 'exit' ? 'process.exit' : 'an unhandled SIGTERM'}) is killed with it`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'exec-test-'));
      try {
        const pidFile = path.join(dir, 'pid');
        const script = `import { runProgram } from ${JSON.stringify(EXEC_JS)};
runProgram('sh', ['-c', 'echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile} && exec sleep 60']);
const wait = setInterval(async () => {
  const { existsSync } = await import('node:fs');
  if (!existsSync(${JSON.stringify(pidFile)})) return;
  clearInterval(wait);
  ${end === 'exit' ? 'process.exit(0);' : "process.kill(process.pid, 'SIGTERM'); setInterval(() => undefined, 1000);"}
}, 20);`;
        const tool = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
        const status = await new Promise<{ code: number | null; signal: string | null }>((resolve) => tool.on('exit', (code, signal) => resolve({ code, signal })));
        assert.deepEqual(status, end === 'exit' ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' });
        const pid = Number(readFileSync(pidFile, 'utf8'));
        await until(() => !alive(pid));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
