"""Preflight with thousands of users does no work per plain entry beyond its own checks (issue 23 item 18).

Timings are measured by tests/bench/preflight_users.py, never asserted here; these tests pin the two causes of the
slowness: the nebari role's argument validation of nebari_users and templating every entry of a long list.
"""

import os

import yaml

from ansible_collections.nebari.platform.plugins.plugin_utils.preflight.templating import template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RecordingTemplar:
    """Stands in for Ansible's templar: records what it is asked to template and marks it as templated."""

    def __init__(self):
        self.calls = []

    def template(self, value):
        self.calls.append(value)
        return ("templated", value)


def test_the_nebari_role_does_not_validate_nebari_users_itself():
    """Ansible templates and deep-copies every option of a role's argument spec, even of type raw: 4 s at 10,000
    users. Preflight checks each entry of nebari_users; the spec describes it instead of listing it."""
    with open(os.path.join(ROOT, "roles", "nebari", "meta", "argument_specs.yml")) as f:
        main = yaml.safe_load(f)["argument_specs"]["main"]
    assert "nebari_users" not in main["options"]
    assert any("nebari_users" in line for line in main["description"])


def test_only_list_entries_that_may_hold_a_template_are_templated():
    templar = RecordingTemplar()
    vaulted = object()  # an inline !vault value: the templar decrypts it
    users = [{"username": "alia", "groups": ["analyst"], "enabled": True, "attributes": {"n": 1}},
             {"username": "blake", "password": "{{ vault_blake }}"},
             {"username": "casey", "email": vaulted},
             "{{ more_users }}"]
    result = template(templar, users)
    assert result[0] is users[0]
    assert result[1:] == [("templated", users[1]), ("templated", users[2]), ("templated", users[3])]
    assert templar.calls == users[1:]


def test_a_value_other_than_a_list_is_templated_whole():
    templar = RecordingTemplar()
    assert template(templar, "{{ lookup('file', 'users.csv') | nebari.platform.users_from_csv }}")[0] == "templated"
    assert template(templar, {"mode": "selfsigned"}) == ("templated", {"mode": "selfsigned"})
