#!/usr/bin/env python3
# Run a command on a real pseudo-terminal, as an operator's shell would: the command is the session
# leader and the terminal's foreground process group, so a typed Ctrl-C (\x03) makes the terminal send
# SIGINT to that whole group, and closing the master (a dropped SSH session) makes the kernel send it
# SIGHUP. Used by test/integration/terminal.test.ts (see test/support/pty.ts).
#
# argv[1]: JSON list of steps, done in order, each {"wait": REGEX} plus one of {"send": TEXT},
# {"sendEveryMs": N} (keep sending TEXT every N ms until the command ends) or {"hangup": true};
# argv[2:]: the command. The terminal is 160x40.
# stdout: one JSON object {"status": exit code or null, "signal": number or null, "transcript": text,
# "steps": how many steps fired}.
import fcntl, json, os, pty, re, select, signal, struct, sys, termios, time

steps = json.loads(sys.argv[1])
cmd = sys.argv[2:]
deadline = time.monotonic() + float(os.environ.get('PTY_DRIVE_TIMEOUT_S', '600'))

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 160, 0, 0))
    os.execvp(cmd[0], cmd)

transcript = b''
searched_from = 0
fired = 0
repeat = None  # (text, every_s, next_at)
master_open = True
reaped = None  # the command's wait status, once it has ended


def finish(status):
    out = {'status': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
           'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
           'transcript': transcript.decode('utf-8', 'replace'), 'steps': fired}
    sys.stdout.write(json.dumps(out))
    sys.exit(0)


while True:
    if time.monotonic() > deadline:
        os.killpg(pid, signal.SIGKILL)
    if reaped is None:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            reaped = status
    if reaped is not None and not master_open:
        finish(reaped)
    if master_open:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                # EOF/EIO: every process holding the terminal has closed it or ended.
                os.close(fd)
                master_open = False
                finish(reaped if reaped is not None else os.waitpid(pid, 0)[1])
            transcript += chunk
    else:
        time.sleep(0.05)
        continue
    if repeat and time.monotonic() >= repeat[2]:
        os.write(fd, repeat[0].encode())
        repeat = (repeat[0], repeat[1], time.monotonic() + repeat[1])
    if fired < len(steps):
        step = steps[fired]
        m = re.compile(step['wait'].encode()).search(transcript, searched_from)
        if m:
            searched_from = m.end()
            fired += 1
            if step.get('hangup'):
                os.close(fd)
                master_open = False
            elif 'sendEveryMs' in step:
                repeat = (step['send'], step['sendEveryMs'] / 1000, time.monotonic())
            else:
                os.write(fd, step['send'].encode())
