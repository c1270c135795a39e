"""What the benchmarks share: one whole ansible-playbook process against localhost, timed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(playbook, variables, inventory=None, args=(), root=ROOT):
    """Run playbook with variables (as an extra-vars file) against localhost, or against inventory with args, from
    the checkout root (another checkout's, to compare with an earlier commit: the same venv runs it); returns
    (seconds, the recap's counters). Exits on failure."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(variables, f)
    started = time.monotonic()
    target = ["-i", inventory] if inventory else ["-i", "localhost,", "-c", "local"]
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), playbook, "-e", "@" + f.name]
                          + target + list(args), cwd=root, capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(root, "ansible.cfg")))
    elapsed = time.monotonic() - started
    os.unlink(f.name)
    recap = [line for line in proc.stdout.splitlines() if line.startswith("localhost")]
    if proc.returncode:
        sys.exit("%s failed:\n%s" % (playbook, proc.stdout[-3000:]))
    return elapsed, recap[-1].split(":", 1)[1].split() if recap else []


def changed(recap):
    return int(next(field.split("=")[1] for field in recap if field.startswith("changed=")))


def checkout(commit, into):
    """The tree of commit (git archive: nothing shared with this checkout's worktrees), linked as the collection
    nebari.platform as `make venv` links a checkout."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    os.makedirs(os.path.join(into, ".collections", "ansible_collections", "nebari"))
    os.symlink("../../..", os.path.join(into, ".collections", "ansible_collections", "nebari", "platform"))


def compare_noops(runs, once, labels, baseline, new, width=6):
    """Time `runs` no-op runs of once(label) for each label, alternating; exit if one changes anything; print each
    run, the medians and, with two labels, the speed-up of `new` over `baseline`."""
    times = dict((label, []) for label in labels)
    for dummy in range(runs):
        for label in labels:
            seconds, recap = once(label)
            if changed(recap):
                sys.exit("%s: the no-op run changed %d tasks" % (label, changed(recap)))
            times[label].append(seconds)
            print("%-8s no-op  %*.1f s  changed=0" % (label, width, seconds), flush=True)
    medians = dict((label, statistics.median(values)) for label, values in times.items())
    print("no-op median of %d: %s" % (runs, ", ".join("%s %.1f s" % item for item in medians.items())))
    if len(medians) == 2:
        print("speed-up: %.1fx" % (medians[baseline] / medians[new]))
    return medians
