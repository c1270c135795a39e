"""The test bed's conda channel: a few noarch packages made here, so that conda-store builds complete with nothing
from the internet. `python3 channel.py DIR` writes DIR/noarch/*.tar.bz2 and the repodata of noarch and linux-64.

The packages are generic (files only, no Python): nebari-hello, and nebari-tools that depends on it, in two versions so
that a pin means something."""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import sys
import tarfile

# name, version, depends
PACKAGES = [
    ("nebari-hello", "1.0.0", []),
    ("nebari-tools", "2.0.0", ["nebari-hello >=1"]),
    ("nebari-tools", "2.1.0", ["nebari-hello >=1"]),
]
TIMESTAMP = 1700000000


def _tar(members):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, data in sorted(members.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), TIMESTAMP, 0o644
            tar.addfile(info, io.BytesIO(data))
    return bz2.compress(raw.getvalue())


def package(name, version, depends):
    """The .tar.bz2 of one noarch generic package and its repodata entry."""
    files = {"share/%s/VERSION" % name: ("%s %s\n" % (name, version)).encode()}
    index = {"name": name, "version": version, "build": "0", "build_number": 0, "depends": depends,
             "license": "BSD-3-Clause", "noarch": "generic", "subdir": "noarch", "timestamp": TIMESTAMP * 1000}
    paths = [{"_path": path, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
              "size_in_bytes": len(data)} for path, data in files.items()]
    members = dict(files)
    members["info/index.json"] = json.dumps(index).encode()
    members["info/paths.json"] = json.dumps({"paths": paths, "paths_version": 1}).encode()
    members["info/files"] = "".join(path + "\n" for path in files).encode()
    blob = _tar(members)
    entry = dict(index, md5=hashlib.md5(blob).hexdigest(), sha256=hashlib.sha256(blob).hexdigest(), size=len(blob))
    return "%s-%s-0.tar.bz2" % (name, version), blob, entry


def write_channel(directory):
    repodata = {"noarch": {}, "linux-64": {}}
    os.makedirs(os.path.join(directory, "noarch"), exist_ok=True)
    os.makedirs(os.path.join(directory, "linux-64"), exist_ok=True)
    for name, version, depends in PACKAGES:
        filename, blob, entry = package(name, version, depends)
        with open(os.path.join(directory, "noarch", filename), "wb") as f:
            f.write(blob)
        repodata["noarch"][filename] = entry
    for subdir, packages in repodata.items():
        with open(os.path.join(directory, subdir, "repodata.json"), "w") as f:
            json.dump({"info": {"subdir": subdir}, "packages": packages, "packages.conda": {},
                       "repodata_version": 1}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    write_channel(sys.argv[1])
