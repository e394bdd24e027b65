#!/usr/bin/env python3
"""Usage: readme-snippets.py README OUTDIR

Writes each README block marked `<!-- docs.bats: runs as copied -->` as a script,
OUTDIR/block.N.sh (N from 1), for tests/e2e/docs.bats to run as copied. The only
changes: /tmp/ becomes "$SNIPPET_TMP/" (a private directory, so that parallel runs
never meet), and a command whose comment shows its output (`# {...}`, then
`; echo $?`'s status if any; or a status alone, `# 75`, `# 0: why`) has its stdout saved in "$SNIPPET_OUT/K" with the
expected text, a glob where `...` stands for anything, in OUTDIR/block.N.expect.K.
Jobs still running at the end are killed by pid.
"""
import os
import re
import sys

MARK = "<!-- docs.bats: runs as copied -->"

readme, outdir = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().split("\n")
blocks = []
i = 0
while i < len(lines):
    if lines[i].strip() == MARK and i + 1 < len(lines) and lines[i + 1].startswith("```"):
        i += 2
        block = []
        while i < len(lines) and not lines[i].startswith("```"):
            block.append(lines[i])
            i += 1
        blocks.append(block)
    i += 1

for n, block in enumerate(blocks, 1):
    # Continuation lines joined: one command per line.
    commands, pending = [], ""
    for line in block:
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        commands.append(pending + line)
        pending = ""
    script = ["# generated from %s, block %d" % (os.path.basename(readme), n),
              "trap 'kill $(jobs -p) 2>/dev/null' EXIT"]
    k = 0
    for command in commands:
        command = command.replace("/tmp/", '"$SNIPPET_TMP"/')
        # The comment that shows the output: "  # {...}" at the end of a command.
        m = re.match(r"^(\S.*?)\s+#\s+(\{.*|\d+)(?::.*)?$", command)
        if m:
            k += 1
            script.append('{ %s; } >"$SNIPPET_OUT/%d"' % (m.group(1), k))
            with open(os.path.join(outdir, "block.%d.expect.%d" % (n, k)), "w", encoding="utf-8") as f:
                f.write(m.group(2) + "\n")
        else:
            script.append(command)
    with open(os.path.join(outdir, "block.%d.sh" % n), "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
print(len(blocks))
