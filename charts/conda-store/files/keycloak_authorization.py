# Nebari's authorization in conda-store, from Keycloak (nebari.platform's conda-store chart, auth.keycloak).
# A user who logs in through Keycloak gets the role bindings that the rules of auth.keycloak.roleBindings give for
# the `groups` (full paths) and `roles` (the conda_store client's roles) claims of Keycloak's userinfo:
#   all_users:       the bindings every user who can log in gets
#   <client role>:   the bindings a user with that role of the conda_store client gets
# In a binding's namespace/environment pattern, {username} is the user's name and {group} each of the user's groups
# (one binding per group; /a/b is a/b, which is not a namespace name, so nested groups bind nothing). The roles are
# conda-store's: viewer, developer, admin. A group or user name conda-store cannot use in a binding is left out, with
# a warning in the server's log. The bindings are given at login: a change in Keycloak applies at the next login.
# At login the namespaces the bindings name (the user's, the groups', global...) are created when missing, as Nebari
# Classic does: a developer may build in the group's namespace, but not create a namespace.
import re as nebari_re

import requests as nebari_requests
from conda_store_server import api as nebari_api
from conda_store_server.server import schema as nebari_auth_schema
from conda_store_server.server.auth import GenericOAuthAuthentication as NebariGenericOAuth
from traitlets import Dict as NebariDict
from traitlets import Unicode as NebariUnicode

NEBARI_NAME = nebari_re.compile(r"^[A-Za-z0-9+_@$&?^~.=-]+$")  # conda-store's ALLOWED_CHARACTERS, no wildcard


def nebari_role_bindings(username, groups, roles, rules):
    """{pattern: sorted roles} from the rules for this user, and the names left out (unusable in a pattern)."""
    skipped = [name for name in [username] + [group.strip("/") for group in groups] if not NEBARI_NAME.match(name)]
    names = [group.strip("/") for group in groups if group.strip("/") not in skipped]
    bindings = {}
    for key in ["all_users"] + sorted(set(roles)):
        for pattern, granted in sorted((rules.get(key) or {}).items()):
            if "{username}" in pattern and username in skipped:
                continue
            pattern = pattern.replace("{username}", username)
            for target in [pattern.replace("{group}", name) for name in names] if "{group}" in pattern else [pattern]:
                bindings.setdefault(target, set()).update(granted)
    return {pattern: sorted(granted) for pattern, granted in bindings.items()}, skipped


class NebariKeycloakAuthentication(NebariGenericOAuth):
    """Keycloak's login (GenericOAuthAuthentication) with Nebari's role bindings instead of */* admin for all."""

    role_bindings = NebariDict(config=True, help="rules: all_users or a client role -> {pattern: [roles]}")
    groups_claim = NebariUnicode("groups", config=True, help="userinfo claim with the user's groups (full paths)")
    roles_claim = NebariUnicode("roles", config=True, help="userinfo claim with the user's roles of the client")

    async def authenticate(self, request):
        token = self._get_oauth_token(request)
        if token is None:
            return None
        answer = nebari_requests.get(self.user_data_url, headers={"Authorization": "Bearer %s" % token},
                                     verify=self.tls_verify, timeout=30)
        answer.raise_for_status()
        user = answer.json()
        username = user[self.user_data_key]
        bindings, skipped = nebari_role_bindings(username, user.get(self.groups_claim) or [],
                                                 user.get(self.roles_claim) or [], self.role_bindings)
        if skipped:
            self.log.warning("nebari authorization: %s: no binding for %s (names conda-store cannot use)",
                             username, ", ".join(skipped))
        namespaces = sorted({pattern.split("/")[0] for pattern in bindings if "*" not in pattern.split("/")[0]})
        with request.state.conda_store.session_factory() as db:
            for namespace in namespaces:
                nebari_api.ensure_namespace(db, namespace)
        return nebari_auth_schema.AuthenticationToken(primary_namespace=username, role_bindings=bindings)
