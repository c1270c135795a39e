"""Build the real node's container images from recipes, without a registry or a container engine.

A recipe (tests/testbed/images/NAME.yml) is one layer on top of another recipe's image, or on nothing:

    name: testbed.invalid/jupyterhub/k8s-hub    # the image's name (the test bed's registry host, as a mirror has it)
    tag: 4.4.0
    from: python                     # parent recipe (optional); `debootstrap:` instead makes a Debian root file system
    files: [hub/requirements.txt]    # paths beside the recipe, copied to /tmp/build in the chroot for `run`
    copy: {/pause: $PAUSE_BIN}       # host files put at these paths (environment variables expanded)
    host: |                          # shell run on the host first, writing into the new layer's root ($LAYER)
      unzip -q "$KEYCLOAK_ZIP" -d "$LAYER/opt"
    key_files: [$KEYCLOAK_ZIP]       # host files the host step reads: their content is part of the layer's key
    run: |                           # shell run in a chroot of the parent's file system (network: the registries)
      pip install -r /tmp/build/requirements.txt
    config: {Cmd: [jupyterhub], User: "1000", WorkingDir: /srv, Env: [A=b]}   # as in an OCI image config

Each layer is built once into $NEBARI_CACHE/images/layers/<name>-<key>/ (its directory and its tar), keyed by the
recipe, the files it reads and its parent's key; an image is written as the docker-archive that
`ctr images import` reads. `run` goes through overlayfs: the new layer is the upper directory, with overlay
whiteouts turned into OCI ones.

usage: images.py build NAME...        build (cached) and print one line per image: NAME REF ARCHIVE
       images.py key NAME             print the cache key of an image
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import yaml

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images")
CACHE = os.path.join(os.environ.get("NEBARI_CACHE", os.path.expanduser("~/.cache/nebari-platform")), "images")
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
# what every chroot step gets: the host's CA bundle (registries are reached through a TLS proxy here) and caches
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_CERT": "/tmp/host-ca.crt",
    "SSL_CERT_FILE": "/tmp/host-ca.crt",
    "REQUESTS_CA_BUNDLE": "/tmp/host-ca.crt",
    "NODE_EXTRA_CA_CERTS": "/tmp/host-ca.crt",
    "npm_config_cafile": "/tmp/host-ca.crt",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
}
CACHE_MOUNTS = {"root/.cache/pip": "pip", "root/.npm": "npm", "var/cache/apt/archives": "apt-archives",
                "var/lib/apt/lists": "apt-lists"}


def log(message):
    print("[images %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def recipe(name):
    path = os.path.join(SRC, name + ".yml")
    if not os.path.exists(path):
        sys.exit("no recipe %s (tests/testbed/images/%s.yml)" % (name, name))
    with open(path) as f:
        data = yaml.safe_load(f)
    unknown = set(data) - {"name", "tag", "from", "debootstrap", "files", "copy", "host", "key_files", "run", "config"}
    if unknown or "name" not in data or "tag" not in data:
        sys.exit("recipe %s: needs name and tag; unknown keys: %s" % (name, ", ".join(sorted(unknown)) or "none"))
    return data


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key(name):
    """The cache key of a recipe's layer: its recipe, the files it reads, its parent's key."""
    data = recipe(name)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
    for path in data.get("files", []):
        digest.update(file_digest(os.path.join(SRC, path)).encode())
    for source in list((data.get("copy") or {}).values()) + list(data.get("key_files") or []):
        path = os.path.expandvars(source)
        if not os.path.isfile(path):
            sys.exit("image %s: %s (%s) is not a file: build what it needs first" % (name, source, path))
        digest.update(file_digest(path).encode())
    if data.get("from"):
        digest.update(key(data["from"]).encode())
    return digest.hexdigest()[:12]


def chain(name):
    """The recipes of an image, bottom layer first."""
    data = recipe(name)
    return (chain(data["from"]) if data.get("from") else []) + [name]


def layer_dir(name):
    return os.path.join(CACHE, "layers", "%s-%s" % (name, key(name)))


def run(command, **kwargs):
    subprocess.run(command, check=True, **kwargs)


def debootstrap(spec, root):
    packages = ",".join(spec.get("packages", []))
    log("debootstrap %s (once: about 80 s)" % spec.get("suite", "bookworm"))
    with open(root + ".log", "w") as out:
        proc = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + packages,
                               spec.get("suite", "bookworm"), root, spec.get("mirror", "http://deb.debian.org/debian")],
                              stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode:
        with open(root + ".log") as f:
            sys.stderr.write("".join(f.readlines()[-20:]))
        sys.exit("debootstrap failed (log: %s.log)" % root)
    for pattern_dir in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log"):
        for entry in os.listdir(os.path.join(root, pattern_dir)):
            path = os.path.join(root, pattern_dir, entry)
            if os.path.isfile(path) and not entry.startswith("lock"):
                os.unlink(path)
    open(os.path.join(root, "etc", "machine-id"), "w").close()


def chroot_step(name, data, upper, lowers):
    """Run the recipe's `run` in a chroot of the parent layers, catching what it writes in `upper`."""
    work, merged = upper + ".work", upper + ".merged"
    for path in (work, merged):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
    mounts = []

    def mount(*args, target):
        run(["mount"] + list(args) + [target])
        mounts.append(target)

    try:
        mount("-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (":".join(lowers), upper, work),
              target=merged)
        mount("-t", "proc", "proc", target=os.path.join(merged, "proc"))
        mount("--bind", "/dev", target=os.path.join(merged, "dev"))
        for inside, cache in CACHE_MOUNTS.items():
            os.makedirs(os.path.join(CACHE, "cache", cache), exist_ok=True)
            os.makedirs(os.path.join(merged, inside), exist_ok=True)
            mount("--bind", os.path.join(CACHE, "cache", cache), target=os.path.join(merged, inside))
        build = os.path.join(merged, "tmp", "build")
        os.makedirs(build, exist_ok=True)
        for path in data.get("files", []):
            shutil.copy(os.path.join(SRC, path), build)
        shutil.copy(HOST_CA, os.path.join(merged, "tmp", "host-ca.crt"))
        resolv = os.path.join(merged, "etc", "resolv.conf")
        if os.path.lexists(resolv):
            os.unlink(resolv)
        shutil.copy("/etc/resolv.conf", resolv)
        with open(upper + ".log", "w") as out:
            proc = subprocess.run(["chroot", merged, "/bin/sh", "-euxc", data["run"]], env=CHROOT_ENV,
                                  stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode:
            with open(upper + ".log") as f:
                sys.stderr.write("".join(f.readlines()[-30:]))
            sys.exit("image %s: the run step failed (exit %d; log: %s.log)" % (name, proc.returncode, upper))
    finally:
        for target in reversed(mounts):
            subprocess.run(["umount", "-l", target], check=False)
        shutil.rmtree(work, ignore_errors=True)
        os.rmdir(merged)
    # what only the build needed: the copied files, the CA bundle, resolv.conf, the cache mount points
    for path in ("tmp/build", "tmp/host-ca.crt", "etc/resolv.conf"):
        full = os.path.join(upper, path)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        elif os.path.lexists(full):
            os.unlink(full)
    for inside in CACHE_MOUNTS:
        parts = inside.split("/")
        for depth in range(len(parts), 0, -1):
            try:
                os.rmdir(os.path.join(upper, *parts[:depth]))
            except OSError:
                break
    for path in ("dev", "proc", "tmp"):
        try:
            os.rmdir(os.path.join(upper, path))  # only when the step left nothing there
        except OSError:
            pass


def oci_whiteouts(root):
    """overlayfs records deletions as 0:0 character devices and opaque directories as an xattr; OCI layers use
    .wh.NAME files and .wh..wh..opq."""
    for current, dirs, files in os.walk(root):
        for entry in dirs + files:
            path = os.path.join(current, entry)
            info = os.lstat(path)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                os.unlink(path)
                open(os.path.join(current, ".wh." + entry), "w").close()
        try:
            if os.getxattr(current, "trusted.overlay.opaque") == b"y":
                os.removexattr(current, "trusted.overlay.opaque")
                open(os.path.join(current, ".wh..wh..opq"), "w").close()
        except OSError:
            pass


def build_layer(name):
    """The layer directory of a recipe (built when not cached); its root/ and layer.tar."""
    target = layer_dir(name)
    if os.path.exists(os.path.join(target, "layer.tar")):
        return target
    data = recipe(name)
    lowers = [os.path.join(build_layer(parent), "root") for parent in reversed(chain(name)[:-1])]
    started = time.time()
    tmp = target + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    if data.get("debootstrap"):
        debootstrap(data["debootstrap"], root)
    for path, source in (data.get("copy") or {}).items():
        destination = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy2(os.path.expandvars(source), destination)
    if data.get("host"):
        with open(root + ".host.log", "w") as out:
            proc = subprocess.run(["bash", "-euxc", data["host"]], env=dict(os.environ, LAYER=root),
                                  stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode:
            with open(root + ".host.log") as f:
                sys.stderr.write("".join(f.readlines()[-30:]))
            sys.exit("image %s: the host step failed (exit %d; log: %s.host.log)" % (name, proc.returncode, root))
    if data.get("run"):
        if not lowers:
            sys.exit("recipe %s: `run` needs a parent (from:) or debootstrap" % name)
        chroot_step(name, data, root, lowers)
    oci_whiteouts(root)
    run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=security.capability", "--sort=name",
         "--mtime=1970-01-01", "--pax-option=delete=atime,delete=ctime", "-C", root, "-cf",
         os.path.join(tmp, "layer.tar"), "."])
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    log("layer %s built in %.0f s (%d MB)" % (name, time.time() - started,
                                              os.path.getsize(os.path.join(target, "layer.tar")) >> 20))
    return target


def build_image(name):
    """The docker-archive of an image (written when not cached): its reference and path."""
    data = recipe(name)
    reference = "%s:%s" % (data["name"], data["tag"])
    archive = os.path.join(CACHE, "%s-%s.tar" % (name, key(name)))
    if os.path.exists(archive):
        return reference, archive
    names = chain(name)
    layers = [build_layer(recipe_name) for recipe_name in names]
    config = {}
    for recipe_name in names:  # a child's settings override its parent's, key by key
        config.update(recipe(recipe_name).get("config") or {})
    config.setdefault("Env", ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    work = tempfile.mkdtemp(dir=CACHE)
    try:
        diff_ids, members = [], []
        for layer in layers:
            digest = file_digest(os.path.join(layer, "layer.tar"))
            os.makedirs(os.path.join(work, digest))
            os.link(os.path.join(layer, "layer.tar"), os.path.join(work, digest, "layer.tar"))
            diff_ids.append("sha256:" + digest)
            members.append(digest + "/layer.tar")
        body = json.dumps({"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
                           "config": config, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                           "history": [{"created_by": "tests/testbed/images/%s.yml" % n} for n in names]},
                          sort_keys=True).encode()
        config_name = hashlib.sha256(body).hexdigest() + ".json"
        with open(os.path.join(work, config_name), "wb") as f:
            f.write(body)
        with open(os.path.join(work, "manifest.json"), "w") as f:
            json.dump([{"Config": config_name, "RepoTags": [reference], "Layers": members}], f)
        run(["tar", "-C", work, "-cf", archive + ".part", "manifest.json", config_name] + members)
        os.rename(archive + ".part", archive)
    finally:
        shutil.rmtree(work)
    return reference, archive


def main(argv):
    if len(argv) >= 2 and argv[0] == "build":
        os.makedirs(CACHE, exist_ok=True)
        for name in argv[1:]:
            reference, archive = build_image(name)
            print(name, reference, archive)
    elif len(argv) == 2 and argv[0] == "key":
        print(key(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
