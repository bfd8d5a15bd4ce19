#!/bin/sh
# Makes every secret docker-compose.yml mounts, once: random values, one file each.
#
#   sh deploy/compose-secrets.sh [FOLDER]      (default: $CIVIC_SECRETS, else ./secrets)
#
# A file that exists already is kept (the citizen-ID keys must never change by accident:
# numbers encrypted with a lost key cannot be read back). The folder is 0700, so nobody
# else on the host reaches the files; the files are 0644 because compose bind-mounts them
# into containers whose processes run as other users (postgres, uid 10001).
set -eu

folder=${1:-${CIVIC_SECRETS:-./secrets}}
umask 077
mkdir -p "$folder"
chmod 700 "$folder"

random_base64() {
    # $1 random bytes in base64, on one line
    head -c "$1" /dev/urandom | base64 | tr -d '\n'
}

make_secret() {
    # make_secret NAME key|password
    path="$folder/$1"
    if [ -s "$path" ]; then
        echo "kept    $path"
        return 0
    fi
    case "$2" in
        key) value=$(random_base64 32) ;;  # AES-256 key, standard base64
        *) value=$(random_base64 24 | tr '+/' '-_' | tr -d '=') ;;  # URL-safe password
    esac
    printf '%s' "$value" > "$path"
    chmod 644 "$path"
    echo "created $path"
}

make_secret POSTGRES_PASSWORD password
make_secret BOOTSTRAP_ADMIN_PASSWORD password
make_secret WELFARE_CITIZEN_ID_KEY key
make_secret ELDERCARE_CITIZEN_ID_KEY key
# the keys of the lookup hashes (who is a duplicate): separate, so rotating the keys above never changes them
make_secret WELFARE_CITIZEN_ID_LOOKUP_KEY key
make_secret ELDERCARE_CITIZEN_ID_LOOKUP_KEY key
for component in GATEWAY APPRAISAL WELFARE ELDERCARE RENEWAL; do
    make_secret "${component}_DATABASE_PASSWORD" password
    make_secret "${component}_DATABASE_OWNER_PASSWORD" password
done
echo "The first admin's password is in $folder/BOOTSTRAP_ADMIN_PASSWORD."
