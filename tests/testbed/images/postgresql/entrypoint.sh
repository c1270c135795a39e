#!/usr/bin/env bash
# The entrypoint of the test bed's PostgreSQL image, in the role of Bitnami's: the settings come from the
# environment that Bitnami's postgresql chart sets; the first start creates the cluster, the user and the database.
set -euo pipefail
secret() { # VARIABLE: the value of VARIABLE_FILE's file, else VARIABLE's own
  local file_var=${1}_FILE
  if [ -n "${!file_var:-}" ] && [ -f "${!file_var}" ]; then cat "${!file_var}"; else echo "${!1:-}"; fi
}
export PGDATA=${PGDATA:-/bitnami/postgresql/data}
PORT=${POSTGRESQL_PORT_NUMBER:-5432}
RUN=/opt/bitnami/postgresql/tmp
USER_NAME=${POSTGRES_USER:-postgres}
DATABASE=${POSTGRES_DATABASE:-}
ADMIN_PASSWORD=$(secret POSTGRES_POSTGRES_PASSWORD)
USER_PASSWORD=$(secret POSTGRES_PASSWORD)
[ "$USER_NAME" = postgres ] && [ -z "$ADMIN_PASSWORD" ] && ADMIN_PASSWORD=$USER_PASSWORD
mkdir -p "$PGDATA" "$RUN"
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "postgresql: initializing $PGDATA"
  initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
  printf 'local all all trust\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
    > "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$RUN" -w start >/dev/null
  sql() { psql -v ON_ERROR_STOP=1 -h "$RUN" -U postgres -d postgres -q "$@"; }
  [ -n "$ADMIN_PASSWORD" ] && sql -c "ALTER USER postgres PASSWORD '${ADMIN_PASSWORD//\'/\'\'}'"
  if [ "$USER_NAME" != postgres ]; then
    sql -c "CREATE USER \"$USER_NAME\" PASSWORD '${USER_PASSWORD//\'/\'\'}'"
  fi
  if [ -n "$DATABASE" ] && [ "$DATABASE" != postgres ]; then
    sql -c "CREATE DATABASE \"$DATABASE\" OWNER \"$USER_NAME\""
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
touch "$RUN/.initialized" /bitnami/postgresql/.initialized 2>/dev/null || touch "$RUN/.initialized"
echo "postgresql: serving $PGDATA on port $PORT"
exec postgres -D "$PGDATA" -c listen_addresses='*' -c port="$PORT" -c unix_socket_directories="$RUN"
