#!/usr/bin/env bash
# docker-compose.yml's `kafka` service: one KRaft node (broker and controller) whose clients all come in
# over TLS with a SCRAM-SHA-512 user, and whose ACLs are enforced (StandardAuthorizer).
#
# 1. Every KAFKA_* variable of the service (but the JVM's *_OPTS) becomes a broker property, as in the
#    apache/kafka image: KAFKA_LOG_DIRS -> log.dirs, `__` -> `_`, `___` -> `-`. The image's own start
#    script is not used: it cannot take values containing `=` and formats storage without SCRAM users.
# 2. The key store and its password come from the `certs` service ($SECRETS), never from the compose file.
# 3. On the first start the storage is formatted with the SCRAM credentials of `admin` (the only super
#    user besides the loopback-only listeners' ANONYMOUS) and of every user in MRC_KAFKA_USERS, whose
#    password is MRC_KAFKA_PASSWORD_<USER> (upper case, `-` -> `_`). Later starts keep the stored ones.
set -euo pipefail

SECRETS=${MRC_KAFKA_SECRETS:-/etc/kafka/mrc}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
CONFIG=${MRC_KAFKA_CONFIG:-/tmp/mrc-kafka/server.properties}
mkdir -p "$(dirname "$CONFIG")"
: > "$CONFIG"
chmod 600 "$CONFIG"

while IFS='=' read -r name value; do
  case $name in
    KAFKA_OPTS | KAFKA_*_OPTS | KAFKA_BIN) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key=$(printf '%s' "${name#KAFKA_}" | sed -e 's/___/-/g' -e 's/__/\x01/g' -e 's/_/./g' -e 's/\x01/_/g' | tr '[:upper:]' '[:lower:]')
  printf '%s=%s\n' "$key" "$value" >> "$CONFIG"
done < <(env)

keystore_password=$(cat "$SECRETS/kafka.p12.password")
{
  echo "ssl.keystore.type=PKCS12"
  echo "ssl.keystore.location=$SECRETS/kafka.p12"
  echo "ssl.keystore.password=$keystore_password"
  echo "ssl.key.password=$keystore_password"
} >> "$CONFIG"

scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$SECRETS/admin.password")]")
for user in ${MRC_KAFKA_USERS:-}; do
  variable="MRC_KAFKA_PASSWORD_$(printf '%s' "$user" | tr 'a-z-' 'A-Z_')"
  scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=${!variable:?$variable is not set}]")
done

"$KAFKA_BIN/kafka-storage.sh" format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$CONFIG" "${scram[@]}"
exec "$KAFKA_BIN/kafka-server-start.sh" "$CONFIG"
