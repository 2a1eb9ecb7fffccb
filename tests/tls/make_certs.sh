#!/usr/bin/env bash
# Writes the certificates the TLS tests use into DIR (made with the openssl CLI, valid for a
# day): a CA; a server certificate for 127.0.0.1 and localhost; two client certificates
# (CN=client and CN=other); and a client certificate from an unrelated CA (CN=rogue).
# Each NAME gets NAME.key, NAME.crt and NAME.pem (key and certificate in one file, the form
# ZooKeeper's ssl.keyStore.type=PEM reads).
#   tests/tls/make_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# ca NAME CN: a self-signed CA certificate.
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -days 1 -subj "/O=Corral Test/CN=$2" -out "$1.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# leaf NAME CA SUBJECT [SAN]: a certificate for NAME signed by CA.
leaf() {
  local name=$1 ca=$2 subject=$3 san=${4:-}
  key "$name"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  {
    echo "basicConstraints=CA:FALSE"
    [[ -z $san ]] || echo "subjectAltName=$san"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 1 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  cat "$name.key" "$name.crt" >"$name.pem"
  rm -f "$name.csr" "$name.ext"
}

ca ca "Corral Test CA"
ca rogue-ca "Rogue CA"
leaf server ca "/C=US/O=Corral/OU=Servers/CN=localhost" "IP:127.0.0.1,DNS:localhost"
leaf client ca "/C=US/O=Corral/OU=Clients/CN=client"
leaf other ca "/C=US/O=Corral/OU=Clients/CN=other"
leaf rogue rogue-ca "/C=US/O=Corral/OU=Clients/CN=rogue"
