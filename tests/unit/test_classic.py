"""The Classic converter and the init's answers, on their own: what each key becomes, what is reported, what is
refused. The integration tier (test_inventory_write.py) writes the inventories and runs preflight on them."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible_collections.nebari.platform.plugins.action.inventory_write import ActionModule
from ansible_collections.nebari.platform.plugins.plugin_utils import init_answers, inventory_files
from ansible_collections.nebari.platform.plugins.plugin_utils.classic import users as classic_users
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.convert import convert, derive
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.reasons import REASONS
from ansible_collections.nebari.platform.plugins.plugin_utils.classic.errors import ClassicError

CONFIGS = os.path.join(os.path.dirname(__file__), "classic_configs")
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "classic.md")


def load(name):
    with open(os.path.join(CONFIGS, name)) as f:
        return yaml.safe_load(f)


def read(name):
    with open(os.path.join(CONFIGS, name)) as f:
        return f.read()


@pytest.mark.parametrize("name", sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIGS, "*.yaml"))))
def test_every_key_is_mapped_or_reported(name):
    """No key is dropped silently: each top-level key of the file is a variable's source or in the report."""
    config = load(name)
    result = convert(config)
    handled = {"provider", "namespace", "domain", "project_name", "nebari_version", "certificate", "security",
               "profiles", "environments", "default_images", "storage", "conda_store", "argo_workflows",
               "monitoring", "jupyterhub", "helm_extensions", "local", "existing", "amazon_web_services",
               "google_cloud_platform", "azure"}
    reported = {u["key"].split(".")[0].split("[")[0] for u in result.unmapped}
    assert set(config) <= handled | reported
    assert result.variables["nebari_domain"] == config["domain"]
    assert result.secrets["vault_keycloak_admin_password"] == config["security"]["keycloak"]["initial_root_password"]
    password = config["security"]["keycloak"]["initial_root_password"]
    assert password not in yaml.safe_dump(inventory_files.plain(result.variables))


def test_aws_init_file():
    result = convert(load("init-aws.yaml"))
    v = result.variables
    assert v["nebari_cluster_provider"] == "eks"
    assert v["nebari_eks"]["cluster"] == "demo-dev"
    assert v["nebari_node_groups"]["general"] == {"labels": {"nebari.dev/node-group": "general"}}
    # Classic taints every group but general with dedicated=nebari:NoSchedule
    assert v["nebari_node_groups"]["user"]["taints"] == [{"key": "dedicated", "value": "nebari",
                                                          "effect": "NoSchedule"}]
    assert [p["name"] for p in v["nebari_profiles"]["jupyterlab"]] == ["small-instance", "medium-instance"]
    assert [e["name"] for e in v["nebari_environments"]] == ["dask", "dashboard"]
    keys = [u["key"] for u in result.unmapped]
    assert "amazon_web_services.node_groups.general.instance" in keys
    assert "ci_cd" in keys and "theme" in keys


def test_rich_gpu_profiles_land_on_the_gpu_node_group():
    v = convert(load("rich-aws-gpu.yaml")).variables
    assert v["nebari_node_groups"]["gpu-1x-t4"]["gpu"] is True
    gpu = [p for p in v["nebari_profiles"]["jupyterlab"] if p.get("gpus")]
    assert gpu and gpu[0]["node_group"] == "gpu-1x-t4"
    assert "node_selector" not in gpu[0].get("kubespawner_override", {})
    workers = [p for p in v["nebari_profiles"]["dask_worker"] if p.get("gpus")]
    assert workers and workers[0]["node_group"] == "gpu-1x-t4"


def test_secrets_in_overrides_go_to_the_vault():
    result = convert(load("rich-aws-gpu.yaml"))
    text = yaml.safe_dump(inventory_files.plain(result.variables))
    for name, value in result.secrets.items():
        if value:
            assert value not in text, name
    assert any(n.startswith("vault_") and n not in ("vault_keycloak_admin_password", "vault_conda_store_token")
               and "client_secret" not in n for n in result.secrets)


def test_existing_gpu_profile_makes_a_gpu_node_group_and_access_is_carried_over():
    result = convert(load("rich-existing.yaml"))
    v = result.variables
    assert v["nebari_cluster_provider"] == "existing"
    gpu_groups = [n for n, g in v["nebari_node_groups"].items() if g.get("gpu")]
    assert gpu_groups
    assert v["nebari_gpu_plugin"] == "none"  # Classic installed nothing for GPUs on existing clusters
    # access: yaml with groups: the profile is offered to that group, which the inventory then names
    gpu = [p for p in v["nebari_profiles"]["jupyterlab"] if p.get("gpus")][0]
    assert gpu["groups"] == ["gpu-access"] and "users" not in gpu
    assert {"name": "gpu-access"} in v["nebari_groups"]
    assert not [u for u in result.unmapped if ".access" in u["key"] or u["key"].endswith((".users", ".groups"))]
    assert v["nebari_tls"]["mode"] == "existing"
    assert v["keycloak_realm_default_groups"] == ["analyst"]


def classic_profiles(*entries):
    config = load("init-local.yaml")
    config["profiles"] = {"jupyterlab": [dict({"display_name": "Small", "default": True}, **entries[0])]
                          + [dict(entry, display_name="P%d" % i) for i, entry in enumerate(entries[1:], 1)]}
    return convert(config)


def test_profile_access_yaml_becomes_users_and_groups_and_keycloak_access_the_attribute():
    result = classic_profiles({"access": "all", "users": None, "groups": None},
                              {"access": "yaml", "users": ["alia"], "groups": ["ml-team", "/projects/vision"]},
                              {"access": "keycloak"}, {"access": "yaml", "users": [], "groups": None})
    profiles = result.variables["nebari_profiles"]["jupyterlab"]
    assert [(p["name"], p.get("users"), p.get("groups"), p.get("keycloak_attribute")) for p in profiles] == [
        ("small", None, None, None), ("p1", ["alia"], ["ml-team", "/projects/vision"], None),
        ("p2", None, None, True)]
    # the groups the profiles name (a path by its top-level group) are in the inventory, built-in ones aside
    assert result.variables["nebari_groups"] == [{"name": "ml-team"}, {"name": "projects"}]
    reasons = {u["key"]: u["reason"] for u in result.unmapped if u["key"].startswith("profiles.")}
    assert sorted(reasons) == ["profiles.jupyterlab[3].access"]
    assert "offered this profile to no one" in reasons["profiles.jupyterlab[3].access"]


def test_profile_groups_that_are_built_in_need_no_custom_group():
    result = classic_profiles({"access": "yaml", "groups": ["developer", "admin"]})
    assert result.variables["nebari_profiles"]["jupyterlab"][0]["groups"] == ["developer", "admin"]
    assert "nebari_groups" not in result.variables


@pytest.mark.parametrize("entry, key", [
    ({"access": "yaml", "users": "alia"}, "profiles.jupyterlab[0].users"),
    ({"access": "yaml", "groups": ["ml-team", 3]}, "profiles.jupyterlab[0].groups"),
    ({"access": "ldap"}, "profiles.jupyterlab[0].access"),
])
def test_bad_profile_access_names_the_key(entry, key):
    with pytest.raises(ClassicError) as error:
        classic_profiles(entry)
    assert error.value.key == key


@pytest.mark.parametrize("name, key", [
    ("old-version.yaml", "nebari_version"),
    ("unknown-provider.yaml", "provider"),
    ("contradicting-profile.yaml", "profiles.jupyterlab[0].kubespawner_override.cpu_guarantee"),
    ("users-without-yaml-access.yaml", "profiles.jupyterlab[0]"),
    ("qhub.yaml", "qhub_version"),
    ("multiple-providers.yaml", "provider"),
])
def test_bad_files_name_the_key(name, key):
    with pytest.raises(ClassicError) as error:
        convert(load(os.path.join("bad", name)))
    assert error.value.key == key


def test_derived_secrets_are_stable_and_distinct():
    assert derive("root-pw", "a") == derive("root-pw", "a") != derive("root-pw", "b")
    assert derive("", "a") is None


def test_users_from_export_json_and_csv():
    users, groups, notes = classic_users.parse(read("users-export.json"), "users-export.json")
    assert all(not u["username"].startswith("service-account-") for u in users)
    assert all(set(u) <= {"username", "email", "first_name", "last_name", "enabled", "email_verified",
                          "attributes", "groups"} for u in users)
    assert any(u.get("enabled") is False for u in users)
    assert any("service accounts" in n for n in notes)
    users, groups, notes = classic_users.parse(read("users.csv"), "users.csv")
    assert "ml-team" in groups
    with pytest.raises(ClassicError):
        classic_users.parse("{not json", "users.json")


def test_docs_table_names_every_reported_key():
    with open(DOCS) as f:
        docs = f.read()
    for key in REASONS:
        assert "`%s`" % key in docs, key


def test_init_answers_k3s():
    v, groups, secrets, notes = init_answers.build({
        "provider": "k3s", "domain": "nebari.example.com", "servers": "10.0.0.1", "metallb_addresses": "10.0.0.240/28",
        "agents": {"user": ["10.0.0.2"], "gpu": "10.0.0.3 10.0.0.4"}})
    assert sorted(groups["k3s_agents"]) == ["nebari-gpu-0", "nebari-gpu-1", "nebari-user-0"]
    assert v["nebari_node_groups"]["gpu"]["gpu"] is True
    assert v["k3s_token"] == "{{ vault_k3s_token }}" and secrets["vault_k3s_token"] is None


def test_init_answers_lists_every_problem():
    with pytest.raises(init_answers.AnswerError) as error:
        init_answers.build({"provider": "eks", "tls": "acme", "colour": "blue", "admin_username": "x"})
    message = str(error.value)
    for text in ("colour: not a question", "domain: required", "cluster: required", "region: required",
                 "tls: must be one of", "admin_username and admin_email"):
        assert text in message


EXPECTED = os.path.join(os.path.dirname(__file__), "classic_expected")


@pytest.mark.parametrize("name", sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIGS, "*.yaml"))))
def test_conversion_matches_the_expected_inventory(name):
    """Each fixture's inventory as reviewed: the variables, the names of the vault secrets, the report.
    After a deliberate change: NEBARI_UPDATE_EXPECTED=1 pytest tests/unit/test_classic.py, and review the diff."""
    users = classic_users.parse(read("users-export.json"), "users-export.json") if name.startswith("rich") else None
    result = convert(load(name), *(users or (None, (), ())))
    got = {"variables": result.variables, "vault": sorted(result.secrets), "unmapped": result.unmapped,
           "notes": result.notes}
    path = os.path.join(EXPECTED, name)
    if os.environ.get("NEBARI_UPDATE_EXPECTED"):
        os.makedirs(EXPECTED, exist_ok=True)
        with open(path, "w") as f:
            f.write("---\n# convert(%s): what the importer makes of it (tests/unit/test_classic.py)\n" % name)
            yaml.safe_dump(inventory_files.plain(got), f, sort_keys=False, width=110)
    with open(path) as f:
        assert got == yaml.safe_load(f)


def test_explicit_file_nulls_are_not_set():
    """`nebari init --explicit` writes users/groups: null on each profile, the other providers' sections as null,
    acme_server under a self-signed certificate and profile_options: {}: all "not set", none reported."""
    result = convert(load("explicit-aws.yaml"))
    assert [p["name"] for p in result.variables["nebari_profiles"]["jupyterlab"]] == ["small-instance",
                                                                                      "medium-instance"]
    assert result.unmapped and not [u["key"] for u in result.unmapped if u["key"].split(".")[0] in (
        "profiles", "certificate", "local", "existing", "google_cloud_platform", "azure")]


@pytest.mark.parametrize("section, provider, key", [
    ("amazon_web_services", "eks", "nebari_eks"), ("google_cloud_platform", "gke", "nebari_gke"),
    ("azure", "aks", "nebari_aks"), ("existing", "existing", "nebari_existing_kubeconfig")])
def test_provider_is_inferred_from_its_section(section, provider, key):
    """Without provider, Classic takes the provider whose section is set (nebari init writes no provider key)."""
    config = {"nebari_version": "2025.10.1", "project_name": "test", "domain": "test.example.com",
              section: {"region": "us-east-1", "kubernetes_version": "1.31"} if section != "existing" else
              {"kube_context": "test"}}
    v = convert(config).variables
    assert v["nebari_cluster_provider"] == provider
    if provider in ("eks", "gke", "aks"):
        assert v[key]["cluster"] == "test-dev"
    assert convert({"nebari_version": "2025.10.1", "project_name": "test", "domain": "test.example.com",
                    "local": None, section: None}).variables["nebari_cluster_provider"] == "existing"


SECRETS = ["UrlSecret0001", "CamelApiKey0001", "CamelSecretKey0001", "CamelAccessToken0001", 314159265, 2718281828,
           "EnvApiKey0001", "EnvSecretAccessKey0001", "ListToken0001"]


def test_secrets_anywhere_go_to_the_vault():
    """camelCase keys, numbers, a profile's environment, credentials in a URL, a token in a list: all vaulted."""
    result = convert(load("secrets-aws.yaml"))
    text = yaml.safe_dump(inventory_files.plain([result.variables, result.unmapped, result.notes]))
    for secret in SECRETS:
        assert str(secret) not in text, secret
        assert secret in result.secrets.values() or "s3://AKIAURLKEY0001:%s@us-east-1" % secret in \
            result.secrets.values(), secret
    assert "vim" in text


def test_helm_templates_are_written_unsafe_and_references_stay_templates():
    """{{ .Release.Name }} in values is Helm's: the writer tags it !unsafe; its own vault references stay templates."""
    variables, dummy, secrets, dummy, dummy = ActionModule._model(None, {
        "source": "classic", "classic_config": os.path.join(CONFIGS, "templates-existing.yaml"),
        "classic_users": None, "group_separator": ";"})
    files = inventory_files.group_vars(variables, "header")
    assert "fullnameOverride: !unsafe '{{ .Release.Name }}-mlflow'" in files["group_vars/all/stack.yml"]
    assert "RELEASE: !unsafe '{{ .Release.Name }}'" in files["group_vars/all/stack.yml"]
    assert "password: '{{ vault_mlflow_auth_password }}'" in files["group_vars/all/stack.yml"]
    assert "!unsafe" not in files["group_vars/all/secrets.yml"] and "{{ vault_" in files["group_vars/all/secrets.yml"]
    # a secret with a template inside is unsafe in the vault file too, and reads back as it was
    vault = inventory_files.vault_text(secrets)
    assert "vault_mlflow_auth_password: !unsafe '{%raw%}p4ss{%endraw%}'" in vault
    assert inventory_files.load(vault) == secrets


def test_the_written_files_do_not_depend_on_the_input_file_name(tmp_path):
    """Importing a renamed copy writes the same files (the header once named the input file)."""
    models = []
    for name in ("nebari-config.yaml", "prod-copy.yml"):
        with open(os.path.join(CONFIGS, "init-aws.yaml")) as f:
            (tmp_path / name).write_text(f.read())
        models.append(ActionModule._model(None, {"source": "classic", "classic_config": str(tmp_path / name),
                                                 "classic_users": None, "group_separator": ";"}))
    assert models[0][3] == models[1][3]  # IMPORT-REPORT.md
    assert models[0][4]["origin"] == models[1][4]["origin"]  # the header of every file, README.md


def test_azure_resource_group_is_not_escaped():
    """Classic escapes the project name in the AKS cluster's name only; the resource group is <project>-<namespace>."""
    aks = convert({"provider": "azure", "nebari_version": "2025.10.1", "project_name": "azure-test",
                   "domain": "test.example.com", "azure": {"region": "eastus"}}).variables["nebari_aks"]
    assert aks == {"cluster": "a61zurea2Dtest-dev", "resource_group": "azure-test-dev"}


@pytest.mark.parametrize("instance", ["a2-highgpu-1g", "a3-highgpu-8g", "g2-standard-4"])
def test_gcp_machine_types_with_gpus_are_gpu_node_groups(instance):
    """The docs' A100 example: an a2 machine carries its GPUs without guest_accelerators."""
    v = convert({"provider": "gcp", "nebari_version": "2025.10.1", "project_name": "test", "domain": "t.example.com",
                 "google_cloud_platform": {"project": "p", "region": "us-central1", "node_groups": {
                     "gpu-ampere-a100-x1": {"instance": instance, "min_nodes": 0, "max_nodes": 1}}},
                 "profiles": {"jupyterlab": [{"display_name": "A100 GPU Instance 1x", "kubespawner_override": {
                     "cpu_limit": 12, "mem_limit": "80G", "extra_resource_limits": {"nvidia.com/gpu": 1},
                     "node_selector": {"cloud.google.com/gke-nodepool": "gpu-ampere-a100-x1"}}}]}}).variables
    assert v["nebari_node_groups"]["gpu-ampere-a100-x1"]["gpu"] is True
    assert v["nebari_profiles"]["jupyterlab"][0]["node_group"] == "gpu-ampere-a100-x1"


def minimal(**changes):
    config = {"provider": "existing", "nebari_version": "2025.10.1", "project_name": "test",
              "domain": "test.example.com"}
    config.update(changes)
    return config


@pytest.mark.parametrize("changes, key", [
    ({"project_name": "1test"}, "project_name"),
    ({"project_name": "test-"}, "project_name"),
    ({"project_name": "averyverylongname"}, "project_name"),  # 17 characters
    ({"namespace": "dev-"}, "namespace"),
    ({"security": {"authentication": {"type": "custom"}}}, "security.authentication.type"),
])
def test_what_classic_refuses_is_refused(changes, key):
    with pytest.raises(ClassicError) as error:
        convert(minimal(**changes))
    assert error.value.key == key


def test_a_file_without_nebari_version_is_the_newest_release():
    """Classic fills in its own version; the importer takes the newest it knows, and says so."""
    config = minimal()
    del config["nebari_version"]
    result = convert(config)
    assert any(n.startswith("nebari_version is not set: taken as 2026.3.1") for n in result.notes), result.notes
    assert "nebari-dask==2026.3.1" in result.variables["nebari_environments"][0]["dependencies"]


def test_github_and_auth0_sign_in_become_identity_providers_with_their_secrets_in_the_vault():
    github = convert(minimal(security={"authentication": {"type": "GitHub", "config": {
        "client_id": "Iv1.abc", "client_secret": "gh-secret"}}}))
    entry = github.variables["nebari_identity_providers"][0]
    assert (entry["alias"], entry["type"], entry["client_id"]) == ("github", "github", "Iv1.abc")
    assert str(entry["client_secret"]) == "{{ vault_github_client_secret }}"
    assert github.secrets["vault_github_client_secret"] == "gh-secret"
    assert not [u for u in github.unmapped if u["key"].startswith("security.authentication")]
    auth0 = convert(minimal(security={"authentication": {"type": "Auth0", "config": {
        "client_id": "a0", "client_secret": "a0-secret", "auth0_subdomain": "acme"}}}))
    entry = auth0.variables["nebari_identity_providers"][0]
    assert (entry["alias"], entry["type"], entry["token_url"]) == ("auth0", "oidc", "https://acme.auth0.com/oauth/token")
    assert entry["issuer"] == "https://acme.auth0.com/" and auth0.secrets["vault_auth0_client_secret"] == "a0-secret"
    with pytest.raises(ClassicError) as error:
        convert(minimal(security={"authentication": {"type": "Auth0", "config": {"client_id": "a0"}}}))
    assert error.value.key == "security.authentication.config.auth0_subdomain"
