#!/bin/sh
# civic-entrypoint: the image's entrypoint (see deploy/README.md).
#
#   civic-entrypoint gateway|appraisal|welfare|eldercare|renewal [UVICORN OPTION ...]
#       run that component with uvicorn; with MIGRATE_ON_START=1 its migrations first
#   civic-entrypoint migrate [COMPONENT ...]
#       apply the migrations of the components (all five without names), then exit
#   civic-entrypoint wait-for-migrations [COMPONENT ...]
#       wait until their schemas are at the newest revision (MIGRATIONS_WAIT_TIMEOUT, 300 s)
#   civic-entrypoint COMMAND [ARG ...]
#       anything else is run as is, e.g. `python -m platformctl accounts create …`
#
# A component's database is <COMPONENT>_DATABASE_URL, else DATABASE_URL; it listens on
# <COMPONENT>_HOST (0.0.0.0) and <COMPONENT>_PORT (8000 gateway, 8001 appraisal,
# 8002 welfare, 8003 eldercare, 8004 renewal). uvicorn itself reads WEB_CONCURRENCY
# (worker processes) and FORWARDED_ALLOW_IPS.
set -eu

CIVIC_HOME=${CIVIC_HOME:-/app}
COMPONENTS="gateway appraisal welfare eldercare renewal"

die() {
    echo "civic-entrypoint: $*" >&2
    exit 64
}

migrations() {
    # python deploy/migrations.py up|wait COMPONENT...: runs `python -m platformctl
    # migrate up --component NAME` per component under a PostgreSQL advisory lock, so
    # that replicas starting together never run one schema's migrations twice at once.
    python "$CIVIC_HOME/deploy/migrations.py" "$@"
}

case "${1:-}" in
    gateway)
        app=gateway.main:app_factory
        default_port=8000
        # limits on the request head (timeout, header count and size): gateway/gateway/server.py
        http=gateway.server:GuardedHttpToolsProtocol
        # X-Forwarded-For is believed only from GATEWAY_TRUSTED_PROXIES (uvicorn's own default
        # believes 127.0.0.1); with proxies named, FORWARDED_ALLOW_IPS must name them too
        case "${GATEWAY_TRUSTED_PROXIES:-}" in
            "" | "[]") proxy_headers=--no-proxy-headers ;;
            *) proxy_headers=--proxy-headers ;;
        esac
        ;;
    appraisal | welfare | eldercare | renewal)
        app="$1.main:create_app"
        case "$1" in
            appraisal) default_port=8001 ;;
            welfare) default_port=8002 ;;
            eldercare) default_port=8003 ;;
            *) default_port=8004 ;;
        esac
        ;;
    migrate)
        shift
        # shellcheck disable=SC2086 # the default list is meant to be split
        [ "$#" -gt 0 ] || set -- $COMPONENTS
        exec python "$CIVIC_HOME/deploy/migrations.py" up "$@"
        ;;
    wait-for-migrations)
        shift
        # shellcheck disable=SC2086
        [ "$#" -gt 0 ] || set -- $COMPONENTS
        exec python "$CIVIC_HOME/deploy/migrations.py" wait "$@"
        ;;
    "")
        die "which component? one of: $COMPONENTS, migrate, wait-for-migrations"
        ;;
    *)
        exec "$@"
        ;;
esac

component=$1
shift
prefix=$(printf '%s' "$component" | tr '[:lower:]' '[:upper:]')
eval "host=\${${prefix}_HOST:-0.0.0.0}"
eval "port=\${${prefix}_PORT:-$default_port}"

case "${MIGRATE_ON_START:-0}" in
    1 | true | yes)
        migrations up "$component"
        ;;
    0 | false | no | "") ;;
    *)
        die "MIGRATE_ON_START must be 1 or 0, not '${MIGRATE_ON_START}'"
        ;;
esac

# shellcheck disable=SC2154 # host and port are set by eval above
exec python -m uvicorn --factory "$app" \
    --host "$host" --port "$port" \
    --loop uvloop --http "${http:-httptools}" \
    --no-access-log --timeout-keep-alive 75 \
    --timeout-graceful-shutdown "${UVICORN_GRACEFUL_SHUTDOWN_SECONDS:-10}" \
    ${proxy_headers:+"$proxy_headers"} "$@"
