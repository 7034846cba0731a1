#!/usr/bin/env bash
# docker-compose.yml's `kafka-init` service (one-shot, once the broker is healthy), as the super user
# `admin`: the platform's topics, then the ACLs of every process's SCRAM user. The same layout as the
# clusters (deploy/components/kafka-strimzi: topics.yaml and users.yaml, read their comments);
# tests/deploy checks that both grant exactly the same.
#
# Idempotent: what exists already is left alone, so a restart of the stack runs two listings and nothing
# else. Nothing is removed: `docker compose down -v` starts afresh.
set -euo pipefail

KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
SECRETS=${MRC_KAFKA_SECRETS:-/etc/kafka/mrc}
BOOTSTRAP=${MRC_KAFKA_BOOTSTRAP:-kafka:9092}
PARTITIONS=${MRC_KAFKA_TOPIC_PARTITIONS:-3}
admin=(--bootstrap-server "$BOOTSTRAP" --command-config "$SECRETS/admin.properties")

# ---------------------------------------------------------------- topics

existing_topics=$("$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --list)

topic() { # topic NAME [PROPERTY=VALUE...]
  local name=$1 config=()
  shift
  if grep -qxF -- "$name" <<< "$existing_topics"; then
    return
  fi
  for property in "$@"; do
    config+=(--config "$property")
  done
  "$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --create --if-not-exists --topic "$name" \
    --partitions "$PARTITIONS" --replication-factor 1 ${config[@]+"${config[@]}"}
}

topic mrc.registry.workers.v1 retention.ms=604800000
topic mrc.registry.households.v1 retention.ms=604800000
topic mrc.entitlements.eligibility.v1 retention.ms=604800000
topic mrc.entitlements.applications.v1 retention.ms=604800000
topic mrc.entitlements.catalogue.v1 retention.ms=604800000
topic mrc.grievance.grievances.v1 retention.ms=604800000
topic mrc.grievance.traces.v1 retention.ms=604800000
topic mrc.employer.employers.v1 retention.ms=604800000
topic mrc.employer.minimum-wages.v1 retention.ms=604800000
topic mrc.access.partners.v1 retention.ms=604800000
topic mrc.access.clients.v1 cleanup.policy=compact
topic mrc.audit.v1 retention.ms=34560000000
topic mrc-entitlements.dlq retention.ms=2592000000
topic mrc-grievance.dlq retention.ms=2592000000
topic mrc-access.dlq retention.ms=2592000000
topic mrc-employer.dlq retention.ms=2592000000

# ---------------------------------------------------------------- ACLs

# One line per existing ACL: "User:<name> <TYPE> <PATTERN> <resource name> <OPERATION>".
existing_acls=$("$KAFKA_BIN/kafka-acls.sh" "${admin[@]}" --list | awk '
  /^Current ACLs for resource/ {
    match($0, /resourceType=[A-Z_]+/); type = substr($0, RSTART + 13, RLENGTH - 13)
    match($0, /name=[^,]+/); name = substr($0, RSTART + 5, RLENGTH - 5)
    match($0, /patternType=[A-Z_]+/); pattern = substr($0, RSTART + 12, RLENGTH - 12)
    next
  }
  /principal=/ && /permissionType=ALLOW/ {
    match($0, /principal=[^,]+/); principal = substr($0, RSTART + 10, RLENGTH - 10)
    match($0, /operation=[A-Z_]+/); operation = substr($0, RSTART + 10, RLENGTH - 10)
    print principal, type, pattern, name, operation
  }')

upper() { # IdempotentWrite -> IDEMPOTENT_WRITE, prefixed -> PREFIXED
  printf '%s' "$1" | sed -E 's/([a-z])([A-Z])/\1_\2/g' | tr '[:lower:]' '[:upper:]'
}

acl() { # acl USER topic|group|cluster literal|prefixed NAME OPERATION...
  local user=$1 type=$2 pattern=$3 name=$4 missing=() options=() resource=()
  shift 4
  for operation in "$@"; do
    if ! grep -qxF -- "User:$user $(upper "$type") $(upper "$pattern") $name $(upper "$operation")" <<< "$existing_acls"; then
      missing+=("$operation")
      options+=(--operation "$operation")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return
  fi
  case $type in
    topic) resource=(--topic "$name") ;;
    group) resource=(--group "$name") ;;
    cluster) resource=(--cluster) ;;
  esac
  "$KAFKA_BIN/kafka-acls.sh" "${admin[@]}" --add --allow-principal "User:$user" \
    --resource-pattern-type "$pattern" "${resource[@]}" "${options[@]}" > /dev/null
  echo "ACL: $user $type $pattern $name ${missing[*]}"
}

acl mrc-registry topic prefixed mrc.registry. Write Describe Create
acl mrc-registry topic literal mrc.audit.v1 Write Describe
acl mrc-registry topic literal mrc.access.clients.v1 Read Describe
acl mrc-registry cluster literal kafka-cluster IdempotentWrite

acl mrc-entitlements topic prefixed mrc.entitlements. Write Describe Create
acl mrc-entitlements topic literal mrc.audit.v1 Write Describe
acl mrc-entitlements topic literal mrc.access.clients.v1 Read Describe
acl mrc-entitlements cluster literal kafka-cluster IdempotentWrite

acl mrc-entitlements-worker topic prefixed mrc.entitlements. Write Describe Create
acl mrc-entitlements-worker topic literal mrc.audit.v1 Write Describe
acl mrc-entitlements-worker topic literal mrc.registry.workers.v1 Read Describe
acl mrc-entitlements-worker topic literal mrc.registry.households.v1 Read Describe
acl mrc-entitlements-worker group prefixed mrc-entitlements Read
acl mrc-entitlements-worker topic literal mrc-entitlements.dlq Write Describe
acl mrc-entitlements-worker topic prefixed mrc-entitlements- Read Write Describe Create
acl mrc-entitlements-worker cluster literal kafka-cluster IdempotentWrite

acl mrc-grievance topic prefixed mrc.grievance. Write Describe Create
acl mrc-grievance topic literal mrc.audit.v1 Write Describe
acl mrc-grievance topic literal mrc.access.clients.v1 Read Describe
acl mrc-grievance cluster literal kafka-cluster IdempotentWrite

acl mrc-grievance-worker topic literal mrc.audit.v1 Describe
acl mrc-grievance-worker topic literal mrc.registry.workers.v1 Read Describe
acl mrc-grievance-worker topic literal mrc.grievance.grievances.v1 Read Describe
acl mrc-grievance-worker group prefixed mrc-grievance Read
acl mrc-grievance-worker topic literal mrc-grievance.dlq Write Describe
acl mrc-grievance-worker topic prefixed mrc-grievance- Read Write Describe Create
acl mrc-grievance-worker cluster literal kafka-cluster IdempotentWrite

acl mrc-employer topic prefixed mrc.employer. Write Describe Create
acl mrc-employer topic literal mrc.audit.v1 Write Describe
acl mrc-employer topic literal mrc.access.clients.v1 Read Describe
acl mrc-employer cluster literal kafka-cluster IdempotentWrite

acl mrc-employer-worker topic prefixed mrc.employer. Write Describe Create
acl mrc-employer-worker topic literal mrc.employer.employers.v1 Read
acl mrc-employer-worker topic literal mrc.audit.v1 Write Describe
acl mrc-employer-worker topic literal mrc.grievance.grievances.v1 Read Describe
acl mrc-employer-worker topic literal mrc.registry.workers.v1 Read Describe
acl mrc-employer-worker group prefixed mrc-employer Read
acl mrc-employer-worker topic literal mrc-employer.dlq Write Describe
acl mrc-employer-worker topic prefixed mrc-employer- Read Write Describe Create
acl mrc-employer-worker cluster literal kafka-cluster IdempotentWrite

acl mrc-access topic prefixed mrc.access. Write Describe Create
acl mrc-access topic literal mrc.audit.v1 Write Describe
acl mrc-access topic literal mrc.access.clients.v1 Read Describe
acl mrc-access cluster literal kafka-cluster IdempotentWrite

acl mrc-access-worker topic literal mrc.audit.v1 Read Describe
acl mrc-access-worker group prefixed mrc-access Read
acl mrc-access-worker topic literal mrc-access.dlq Write Describe
acl mrc-access-worker topic prefixed mrc-access- Read Write Describe Create

echo "topics and ACLs in place"
