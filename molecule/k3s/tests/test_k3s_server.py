"""Verify (pytest-testinfra, over ssh): what the k3s role leaves on a single server."""

import json

import yaml


def test_k3s_runs_enabled_from_the_installed_binary(host):
    service = host.service("k3s")
    assert service.is_running and service.is_enabled
    assert host.file("/usr/local/bin/k3s").mode == 0o755
    assert host.file("/usr/local/bin/kubectl").linked_to == "/usr/local/bin/k3s"
    assert "k3s version v1.34.2+k3s1" in host.check_output("/usr/local/bin/k3s --version")


def test_config_starts_a_cluster_with_the_token_from_a_file(host):
    config = yaml.safe_load(host.file("/etc/rancher/k3s/config.yaml").content_string)
    assert config["cluster-init"] is True and "server" not in config
    assert config["token-file"] == "/etc/rancher/k3s/token"
    assert config["disable"] == ["traefik", "servicelb"]
    assert config["node-label"] == ["nebari.dev/node-group=general"]
    token = host.file("/etc/rancher/k3s/token")
    assert token.mode == 0o600 and token.content_string.strip() == "molecule-token"


def test_unit_is_notify_with_the_install_scripts_limits(host):
    unit = host.file("/etc/systemd/system/k3s.service").content_string
    assert "Type=notify" in unit and "LimitNOFILE=1048576" in unit and "ExecStart=/usr/local/bin/k3s server" in unit


def test_kernel_settings_are_kept_for_the_next_boot(host):
    assert host.file("/etc/modules-load.d/k3s.conf").content_string.split() == ["overlay", "br_netfilter"]
    assert "net.ipv4.ip_forward=1" in host.file("/etc/sysctl.d/90-k3s.conf").content_string


def test_images_archive_is_where_k3s_imports_it(host):
    assert host.file("/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst").exists


def test_k3s_started_once_with_nothing_refused(host):
    starts = [json.loads(line) for line in host.file("/var/log/k3s-standin.log").content_string.splitlines()]
    assert len(starts) == 1 and starts[0]["started"] and starts[0]["unknown"] == []
