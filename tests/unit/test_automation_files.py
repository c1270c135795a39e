"""The files that let robots run nebari.platform: the execution environment definition (ansible-builder), the
collection's declared EE dependencies, and the GitOps CI examples against GitHub's and GitLab's own schemas
(vendored in check-jsonschema). No image is built and no CI runs here."""

import os
import shutil
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".venv", "bin")
CI_FILES = (("vendor.github-workflows", "examples/gitops/github/nebari.yml"),
            ("vendor.gitlab-ci", "examples/gitops/gitlab/.gitlab-ci.yml"))


def run(*command, cwd=ROOT):
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)


def test_gitops_ci_files_match_their_schemas(tmp_path):
    for schema, path in CI_FILES:
        proc = run(os.path.join(BIN, "check-jsonschema"), "--builtin-schema", schema, path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # not vacuous: a misspelt key fails the same check
    broken = tmp_path / "nebari.yml"
    with open(os.path.join(ROOT, CI_FILES[0][1])) as f:
        broken.write_text(f.read().replace("runs-on:", "run-on:"))
    proc = run(os.path.join(BIN, "check-jsonschema"), "--builtin-schema", CI_FILES[0][0], str(broken))
    assert proc.returncode != 0


def test_ansible_builder_creates_the_build_context(tmp_path):
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        galaxy = yaml.safe_load(f)
    tarball = "%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"])
    with open(os.path.join(ROOT, "ee", "requirements.yml")) as f:
        assert {"name": "ee/" + tarball, "type": "file"} in yaml.safe_load(f)["collections"]
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), str(tmp_path))
    shutil.copytree(os.path.join(ROOT, "ee"), str(tmp_path / "ee"))
    proc = run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path / "ee"), ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "ee" / tarball).exists()
    proc = run(os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
               "--output-filename", "Containerfile",
               cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.21.5" in containerfile and "ansible-runner==2.4.3" in containerfile
    assert "helm-${HELM_VERSION}-linux-amd64.tar.gz.sha256sum" in containerfile
    assert (context / "_build" / "ee" / tarball).exists()
    assert "ee/" + tarball in (context / "_build" / "requirements.yml").read_text()


def test_the_collection_declares_what_its_execution_environment_needs():
    """ansible-builder's introspection (what it runs inside the image to collect dependencies) finds ours."""
    proc = run(os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", os.path.join(ROOT, ".collections"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout)
    python = " ".join(found.get("python", []))
    system = " ".join(found.get("system", []))
    # (--sanitize drops what ansible-core brings itself, PyYAML among them)
    for library in ("kubernetes", "jsonschema", "awscli"):
        assert library.lower() in python.lower(), python
    assert "openssh-client" in system and "git" in system, system
