# Keycloak of the test bed: the keycloak-quarkus-dist from Maven Central in dev mode on 127.0.0.1, under /auth as
# Nebari serves it, with its database in the test bed's state. Sourced by ../testbed.
# shellcheck shell=bash

KEYCLOAK_URL=http://127.0.0.1:$TB_KEYCLOAK_PORT/auth
KEYCLOAK_ADMIN_PASSWORD_FILE=$TESTBED_STATE/secrets/keycloak-admin-password

# secret NAME: the test bed's generated secret of that name, made once per state directory
secret() {
  local file=$TESTBED_STATE/secrets/$1
  if [ ! -s "$file" ]; then
    mkdir -p "$TESTBED_STATE/secrets"; chmod 700 "$TESTBED_STATE/secrets"
    # a prefix keeps it unlike any user or group name: Ansible masks every occurrence of a no_log value
    (umask 077; printf '%s-%s' "$1" "$(openssl rand -hex 12)" > "$file")
  fi
  cat "$file"
}

keycloak_java_home() {
  local jdk
  for jdk in "${KEYCLOAK_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
    [ -n "$jdk" ] && [ -x "$jdk/bin/java" ] && { echo "$jdk"; return; }
  done
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

keycloak_start() {
  local password; password=$(secret keycloak-admin-password)
  mkdir -p "$TESTBED_STATE/keycloak"
  # the bootstrap admin is made only with a new database; it lives as long as the database does
  JAVA_HOME=$(keycloak_java_home) KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$password \
    start keycloak "$KEYCLOAK_HOME/bin/kc.sh" start-dev \
      --http-host=127.0.0.1 --http-port="$TB_KEYCLOAK_PORT" --http-relative-path=/auth \
      --db-url="jdbc:h2:file:$TESTBED_STATE/keycloak/keycloakdb;NON_KEYWORDS=VALUE"
}

keycloak_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$KEYCLOAK_URL/realms/master")" = 200 ]; }
