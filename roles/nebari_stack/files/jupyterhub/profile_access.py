# nebari.platform: who may use which JupyterLab profile (nebari_profiles.jupyterlab[*].users and .groups), as Nebari
# Classic's `access: yaml`. z2jh sets KubeSpawner's profile_list from singleuser.profileList (kept as KubeSpawner reads
# it); the values template wraps it after this file with nebari_profile_access, a callable profile_list(spawner) that
# KubeSpawner calls both for the spawn form and when it loads the profile a server starts with:
#   - a profile without rules is offered to every user;
#   - a profile with rules, only to the users it names, to the members of the groups it names (the groups the
#     user's Keycloak token gave the hub at login: full paths such as /ml-team or /parent/child) and, where the
#     profile has keycloak_attribute (rule `names`), to the users whose Keycloak attribute jupyterlab_profiles (the
#     token's claim of that name, kept in the auth state) names it, as Nebari Classic's `access: keycloak`;
#   - the hub's admins get every profile.
# A user who may use none of the profiles is refused (403, on the spawn page and at a spawn through the API) rather
# than given an empty list: KubeSpawner starts a server with an empty list from the chart's singleuser defaults, which
# would let her past the restrictions.
# Settings: custom.nebari-profile-access, {slug: {users: [names], groups: [paths], names: [profile names]}} (roles/nebari_stack/templates/
# values/jupyterhub.yml.j2).
from jupyterhub.utils import maybe_future
from tornado import web
from z2jh import get_config

NEBARI_PROFILE_ACCESS = get_config("custom.nebari-profile-access", {})


def nebari_group_path(name):
    """A group name or path as the hub knows Keycloak's groups: ml-team -> /ml-team, /parent/child as it is."""
    return name if name.startswith("/") else "/" + name


def nebari_attribute_profiles(auth_state):
    """The profile names the user's Keycloak attribute jupyterlab_profiles gives (a list, or one string)."""
    value = ((auth_state or {}).get("oauth_user") or {}).get("jupyterlab_profiles") or []
    return set([value] if isinstance(value, str) else value)


def nebari_profile_allowed(spawner, profile, attribute_profiles=()):
    """Whether the spawner's user may use this profile (its rules in custom.nebari-profile-access)."""
    rules = NEBARI_PROFILE_ACCESS.get(profile.get("slug"))
    if not rules or spawner.user.admin:
        return True
    users = set(name.lower() for name in rules.get("users") or [])
    groups = set(nebari_group_path(name) for name in rules.get("groups") or [])
    return (spawner.user.name.lower() in users
            or any(nebari_group_path(group.name) in groups for group in spawner.user.groups)
            or any(name in attribute_profiles for name in rules.get("names") or []))


def nebari_profile_access(profile_list):
    """The callable profile_list(spawner) offering each user the profiles of profile_list (a list, or a callable
    as KubeSpawner takes one) that she may use."""

    async def nebari_profile_list(spawner):
        profiles = profile_list
        if callable(profiles):
            profiles = await maybe_future(profiles(spawner))
        profiles = list(profiles or [])
        attribute_profiles = set()
        if any((NEBARI_PROFILE_ACCESS.get(profile.get("slug")) or {}).get("names") for profile in profiles):
            attribute_profiles = nebari_attribute_profiles(await spawner.user.get_auth_state())
        allowed = [profile for profile in profiles if nebari_profile_allowed(spawner, profile, attribute_profiles)]
        if profiles and not allowed:
            spawner.log.warning("nebari profile access: %s may use none of the profiles %s", spawner.user.name,
                                [profile.get("slug") for profile in profiles])
            raise web.HTTPError(403, "You may use none of this hub's JupyterLab profiles: ask your Nebari "
                                     "administrators to add you to a group that may use one.")
        return allowed

    return nebari_profile_list
