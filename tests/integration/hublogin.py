"""A user's login to JupyterHub (or conda-store) through Keycloak's real login form, over plain HTTP, as a browser makes it: the hub
sends the browser to Keycloak, Keycloak's form takes the username and password (and, for an initial password, the
new one it asks for), Keycloak sends the browser back to the hub's callback with a code, the hub exchanges the code
for the user's tokens at Keycloak and sets its own login cookie.

The callback URL is the platform's public one (https://<nebari_domain>/hub/oauth_callback); the test bed has no
route to that name, so the browser's last hop is made to the hub's own address with the same path and query."""

from __future__ import annotations

import html
import re
import time
import urllib.parse

import requests

FORM = re.compile(r'<form[^>]*\baction="([^"]+)"', re.S)


class LoginRefused(AssertionError):
    """Keycloak answered its form again instead of sending the browser back: the page's message says why."""


def form_action(page):
    match = FORM.search(page)
    assert match, "no form on the page: %s" % page[:500]
    return html.unescape(match.group(1))


def page_message(page):
    found = re.search(r'<span[^>]*(?:kc-feedback-text|input-error)[^>]*>(.*?)</span>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else page[:300]


def login(hub, username, password, new_password=None, timeout=30):
    """Log in at `hub` (the hub's base URL, http://<address>); return the session holding the hub's cookie and the
    hub's answer after the callback. An initial (temporary) password is replaced by `new_password`."""
    return service_login(hub, "/hub/oauth_login", "/hub/oauth_callback", username, password, new_password, timeout)


def service_login(base, start, callback_path, username, password, new_password=None, timeout=30):
    """Log in to a service whose login at base + start sends the browser to Keycloak, which sends it back to the
    service's public callback (path callback_path): that last hop is made to `base` instead. Return the session and
    the service's answer to the callback."""
    session = requests.Session()
    begin = session.get(base + start, allow_redirects=False, timeout=timeout)
    assert begin.status_code in (302, 303, 307), (begin.status_code, begin.text[:300])
    form = session.get(begin.headers["Location"], timeout=timeout)
    loopback_is_secure(session)
    assert form.status_code == 200, (form.status_code, form.text[:300])
    answer = session.post(form_action(form.text), data={"username": username, "password": password},
                          allow_redirects=False, timeout=timeout)
    loopback_is_secure(session)
    for dummy in range(5):  # Keycloak's own steps until it sends the browser back to the service
        location = answer.headers.get("Location", "") if answer.status_code == 302 else ""
        if location and urllib.parse.urlsplit(location).path != callback_path:
            answer = session.get(location, allow_redirects=False, timeout=timeout)
            loopback_is_secure(session)
        elif answer.status_code == 200 and "password-new" in answer.text:  # an initial password is temporary
            assert new_password, "Keycloak asks %s for a new password" % username
            answer = session.post(form_action(answer.text), data={"password-new": new_password,
                                                                  "password-confirm": new_password},
                                  allow_redirects=False, timeout=timeout)
            loopback_is_secure(session)
        else:
            break
    if answer.status_code != 302:
        raise LoginRefused("Keycloak refused %s: %s" % (username, page_message(answer.text)))
    callback = urllib.parse.urlsplit(answer.headers["Location"])
    assert callback.path == callback_path, answer.headers["Location"]
    back = session.get(base + callback.path + "?" + callback.query, allow_redirects=False, timeout=timeout)
    return session, back


def loopback_is_secure(session):
    """Keycloak marks its login cookies Secure; a browser sends them to http://127.0.0.1 (a secure context), requests
    does not: make them plain for loopback hosts, as the browser treats them."""
    for cookie in session.cookies:
        if cookie.secure and cookie.domain in ("127.0.0.1", "localhost", "localhost.local"):
            cookie.secure = False


def xsrf(session):
    """The hub's _xsrf cookie (once the user opened JupyterLab, the server at /user/<name>/ sets its own too)."""
    return session.cookies.get("_xsrf", path="/hub/")


def hub_api(session, hub, path, method="GET", timeout=30):
    """The hub's REST API with the login cookie (JupyterHub asks cookie-authenticated API calls for its _xsrf)."""
    answer = session.request(method, hub + "/hub/api" + path, headers={"X-XSRFToken": xsrf(session)},
                             timeout=timeout)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def server(session, hub, username):
    """The model of the user's default server as the hub reports it, or None."""
    return hub_api(session, hub, "/users/" + username)["servers"].get("")


def stop(session, hub, username, timeout=300):
    """Stop the user's default server if the hub says one runs (or is starting); wait until it is gone."""
    if server(session, hub, username):
        hub_api(session, hub, "/users/%s/server" % username, method="DELETE", timeout=timeout)
        wait_for(lambda: not server(session, hub, username), timeout, "to stop")


def spawn_page(session, hub, username, timeout=300):
    """The hub's spawn page (the profiles the user is offered) as she opens it with no server running; a server
    still running from an earlier login is stopped first."""
    stop(session, hub, username, timeout)
    page = session.get(hub + "/hub/spawn", allow_redirects=False, timeout=timeout)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"), page.text[:500])
    return page.text


def spawn(session, hub, username, profile, timeout=300):
    """Start the user's server from the spawn form with this profile; wait until the hub says it is ready; return
    its server model. A server still running from an earlier login is stopped first."""
    stop(session, hub, username, timeout)
    answer = session.post(hub + "/hub/spawn", data={"profile": profile, "_xsrf": xsrf(session)},
                          allow_redirects=False, timeout=timeout)
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])

    def ready():
        model = server(session, hub, username)
        return model if model and model.get("ready") else None

    return wait_for(ready, timeout, "to be ready")


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(2)
    raise AssertionError("the server did not come %s in %d s" % (what, timeout))
