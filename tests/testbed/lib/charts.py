"""Fill the sandbox's airgap directory (nebari_airgap_dir/charts) with the chart of every release of the catalog,
the way an airgapped site prepares one: <name>-<version>.tgz, as `helm pull` names them.

For each chart, at the version the catalog pins (or the inventory's nebari_components override):
1. from NEBARI_SANDBOX_CHARTS, a directory of upstream charts (this machine and CI: ../shared/charts), linked;
2. else, when NEBARI_SANDBOX_CHARTS is not set, from the chart's repository (`helm pull`), when it answers;
3. else the test bed's stand-in chart, packaged under that name: the release installs and its values can be read
   back, but nothing of the real chart. These are listed in charts/STANDINS.

usage: charts.py INVENTORY AIRGAP_DIR HELM     (prints one line per chart: FILE SOURCE)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STANDIN = os.path.join(ROOT, "tests", "testbed", "charts", "standin")


def wanted_charts(inventory):
    """(file name, chart) of every repository or OCI chart of the catalog, with the inventory's overrides."""
    with open(os.path.join(ROOT, "roles", "nebari", "vars", "main.yml")) as f:
        catalog = yaml.safe_load(f)["nebari_component_catalog"]
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    listing = json.loads(subprocess.run([binary, "-i", inventory, "--list"], check=True, capture_output=True,
                                        text=True).stdout)
    overrides = listing.get("_meta", {}).get("hostvars", {}).get("localhost", {}).get("nebari_components") or {}
    for component, entry in catalog.items():
        chart = dict(entry["chart"], **((overrides.get(component) or {}).get("chart") or {}))
        if "path" in chart:
            continue
        name = chart.get("name") or chart["oci"].rstrip("/").rsplit("/", 1)[-1]
        yield "%s-%s.tgz" % (name, chart["version"]), chart


def pull(chart, directory):
    command = ["pull", chart["oci"]] if "oci" in chart else ["pull", chart["name"], "--repo", chart["repo"]]
    try:
        proc = subprocess.run([HELM] + command + ["--version", chart["version"], "-d", directory],
                              capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def main(argv):
    global HELM  # pylint: disable=global-statement
    if len(argv) != 3:
        sys.exit(__doc__)
    inventory, airgap, HELM = argv
    charts = os.path.join(airgap, "charts")
    os.makedirs(charts, exist_ok=True)
    source = os.environ.get("NEBARI_SANDBOX_CHARTS", "")
    listed = os.path.join(charts, "STANDINS")
    previous = set(open(listed).read().split()) if os.path.exists(listed) else set()
    standins = []
    with tempfile.TemporaryDirectory() as tmp:
        packaged = None
        for filename, chart in wanted_charts(inventory):
            target = os.path.join(charts, filename)
            if source and os.path.exists(os.path.join(source, filename)):
                if os.path.lexists(target):
                    os.unlink(target)
                os.symlink(os.path.abspath(os.path.join(source, filename)), target)
                origin = source
            elif os.path.exists(target) and filename not in previous:
                origin = "kept"
            elif not source and filename not in previous and pull(chart, charts):
                origin = chart.get("repo") or chart["oci"]
            else:
                if packaged is None:
                    subprocess.run([HELM, "package", STANDIN, "-d", tmp], check=True, capture_output=True)
                    packaged = os.path.join(tmp, os.listdir(tmp)[0])
                shutil.copy(packaged, target)
                standins.append(filename)
                origin = "stand-in (no such chart here)"
            print("%s %s" % (filename, origin))
    with open(listed, "w") as f:
        f.write("".join(name + "\n" for name in standins))


if __name__ == "__main__":
    main(sys.argv[1:])
