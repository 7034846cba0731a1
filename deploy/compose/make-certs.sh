#!/usr/bin/env bash
# docker-compose.yml's `certs` service (one-shot, before Kafka and MongoDB start): the stack's private CA,
# the broker's and the database's TLS certificates, and the passwords nobody needs to type, all generated
# here and kept in the stack's volumes (never in the repository):
#
#   $OUT_CA/ca.crt                  the CA certificate every client verifies the servers against
#   $OUT_KAFKA/kafka.p12(.password) the broker's key and certificate (SAN kafka, localhost, 127.0.0.1)
#   $OUT_KAFKA/admin.password       the Kafka super user `admin` (used by kafka-init and the healthcheck)
#   $OUT_KAFKA/admin.properties     client settings of `admin` for Kafka's command-line tools
#   $OUT_MONGO/mongo.pem            the database's key and certificate (SAN mongo, localhost, 127.0.0.1)
#   $OUT_MONGO/keyfile              the replica set's internal authentication key
#   $OUT_MONGO/root.password        the MongoDB `root` user (used by mongo-init and the healthcheck)
#
# The CA's private key never leaves this container: it signs the two server certificates and is dropped.
# Passwords are generated once; certificates are (re)issued together whenever one is missing or does not
# verify against the CA. `docker compose down -v` starts afresh.
set -euo pipefail
umask 077

OUT_CA=${OUT_CA:-/out/ca}
OUT_KAFKA=${OUT_KAFKA:-/out/kafka}
OUT_MONGO=${OUT_MONGO:-/out/mongo}
# Where the kafka and kafka-init containers mount $OUT_KAFKA (admin.properties names files there).
KAFKA_SECRETS_MOUNT=${KAFKA_SECRETS_MOUNT:-/etc/kafka/mrc}
# Owners of the server-side files: the apache/kafka image runs as `appuser` (1000), mongod as `mongodb` (999).
KAFKA_UID=${KAFKA_UID:-1000}
MONGO_UID=${MONGO_UID:-999}
DAYS=825

mkdir -p "$OUT_CA" "$OUT_KAFKA" "$OUT_MONGO"

secret() { # secret FILE BYTES: a random hex password, generated once
  [[ -s $1 ]] || openssl rand -hex "$2" > "$1"
}
secret "$OUT_KAFKA/admin.password" 24
secret "$OUT_KAFKA/kafka.p12.password" 24
secret "$OUT_MONGO/root.password" 24
[[ -s $OUT_MONGO/keyfile ]] || openssl rand -base64 756 > "$OUT_MONGO/keyfile"

certificates_ok() {
  [[ -s $OUT_CA/ca.crt && -s $OUT_KAFKA/ca.crt && -s $OUT_MONGO/ca.crt && -s $OUT_KAFKA/kafka.p12 ]] || return 1
  [[ -s $OUT_MONGO/mongo.pem ]] || return 1
  openssl verify -CAfile "$OUT_CA/ca.crt" "$OUT_MONGO/mongo.pem" > /dev/null 2>&1 || return 1
  openssl pkcs12 -in "$OUT_KAFKA/kafka.p12" -passin "file:$OUT_KAFKA/kafka.p12.password" -nokeys -clcerts \
    2> /dev/null | openssl verify -CAfile "$OUT_CA/ca.crt" > /dev/null 2>&1
}

if certificates_ok; then
  echo "certificates present"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$DAYS" \
    -subj "/O=MRC local compose/CN=MRC local compose CA" -keyout "$work/ca.key" -out "$work/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2> /dev/null

  issue() { # issue NAME HOST: a server (and client) certificate for HOST, localhost and 127.0.0.1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=MRC local compose/CN=$2" \
      -keyout "$work/$1.key" -out "$work/$1.csr" 2> /dev/null
    printf '%s\n' "subjectAltName=DNS:$2,DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" > "$work/$1.ext"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
      -days "$DAYS" -sha256 -extfile "$work/$1.ext" -out "$work/$1.crt" 2> /dev/null
  }
  issue kafka kafka
  issue mongo mongo

  openssl pkcs12 -export -name kafka -in "$work/kafka.crt" -inkey "$work/kafka.key" -certfile "$work/ca.crt" \
    -passout "file:$OUT_KAFKA/kafka.p12.password" -out "$OUT_KAFKA/kafka.p12"
  cat "$work/mongo.crt" "$work/mongo.key" > "$OUT_MONGO/mongo.pem"
  for dir in "$OUT_CA" "$OUT_KAFKA" "$OUT_MONGO"; do
    cp "$work/ca.crt" "$dir/ca.crt"
  done
  echo "issued a new CA and the kafka and mongo certificates"
fi

rm -f "$OUT_KAFKA/admin.properties"
cat > "$OUT_KAFKA/admin.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$OUT_KAFKA/admin.password")";
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_SECRETS_MOUNT/ca.crt
PROPERTIES

# Private files readable by their server's user only; CA certificates by everyone.
chown -R "$KAFKA_UID:$KAFKA_UID" "$OUT_KAFKA"
chown -R "$MONGO_UID:$MONGO_UID" "$OUT_MONGO"
chmod 0400 "$OUT_KAFKA"/* "$OUT_MONGO"/*
chmod 0444 "$OUT_CA/ca.crt" "$OUT_KAFKA/ca.crt" "$OUT_MONGO/ca.crt"
chmod 0755 "$OUT_CA" "$OUT_KAFKA" "$OUT_MONGO"
