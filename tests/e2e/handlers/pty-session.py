#!/usr/bin/env python3
"""Drives a command on a pseudo-terminal, as a user at a keyboard would.

Usage: pty-session.py SECONDS CMD [ARG...] < SCRIPT
SCRIPT lines:
  send TEXT     types TEXT (Python escapes: \\r is Enter, \\x1b[A is Up, \\x7f is Backspace)
  expect REGEX  waits until the terminal output so far matches REGEX (since the last expect)
  eof           types Ctrl-D
Each expect waits at most SECONDS. Prints the terminal output at the end (to stdout),
then the command's exit status as "exit N". Exits 1 if an expect timed out.
"""
import os
import re
import select
import sys
import time

seconds = float(sys.argv[1])
cmd = sys.argv[2:]
steps = [line.rstrip("\n").split(" ", 1) for line in sys.stdin if line.strip()]

pid, fd = os.forkpty()
if pid == 0:
    os.execvp(cmd[0], cmd)

out = b""
seen = 0  # output before this offset was matched by an earlier expect


def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True


ok = True
for step in steps:
    word, text = step[0], (step[1] if len(step) > 1 else "")
    if word == "send":
        os.write(fd, text.encode().decode("unicode_escape").encode("latin-1"))
    elif word == "eof":
        os.write(fd, b"\x04")
    elif word == "expect":
        pattern = re.compile(text.encode())
        deadline = time.monotonic() + seconds
        while True:
            m = pattern.search(out, seen)
            if m:
                seen = m.end()
                break
            left = deadline - time.monotonic()
            if left <= 0 or not pump(min(left, 0.05)):
                if not pattern.search(out, seen):
                    sys.stderr.write("pty-session: timed out waiting for %r\n" % text)
                    ok = False
                break
        if not ok:
            break

# Collect the rest until the command exits (bounded).
deadline = time.monotonic() + seconds
status = None
while time.monotonic() < deadline:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        while pump(0.05):
            if not select.select([fd], [], [], 0)[0]:
                break
        break
    pump(0.05)
if status is None:
    os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.stdout.write("\nexit %d\n" % (os.waitstatus_to_exitcode(status)))
sys.exit(0 if ok else 1)
