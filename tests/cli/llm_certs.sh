# llm_certs.sh: sourced by the LLM CLI tests (not a test itself: ctest
# runs tests/cli/test_*.sh only). llm_make_certs DIR makes, with the
# openssl CLI, a test CA (DIR/ca.pem), a server certificate for 127.0.0.1
# signed by it (DIR/server.pem, server.key), a client certificate
# (DIR/client.pem, client.key) and an unrelated CA (DIR/other.pem); the
# openssl messages go to DIR/openssl.log. Returns non-zero when openssl
# fails.
llm_make_certs() {
  local c="$1"
  mkdir -p "$c" || return 1
  cat >"$c/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
  llm_cert "$c" ca "/CN=helion test CA" &&
    llm_cert "$c" other "/CN=other test CA" &&
    llm_cert "$c" server "/CN=127.0.0.1" ca &&
    llm_cert "$c" client "/CN=helion test client" ca
}

# llm_cert DIR NAME SUBJECT [CA]: a self-signed CA, or a certificate with
# the NAME extensions of ca.cnf signed by CA.
llm_cert() {
  local c="$1" name="$2" subj="$3"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$c/$name.key" -out "$c/$name.csr" -subj "$subj" \
    -config "$c/ca.cnf" 2>>"$c/openssl.log" || return 1
  if [ $# -eq 3 ]; then
    openssl x509 -req -in "$c/$name.csr" -signkey "$c/$name.key" -days 2 \
      -extfile "$c/ca.cnf" -extensions v3_ca -out "$c/$name.pem" \
      2>>"$c/openssl.log"
  else
    openssl x509 -req -in "$c/$name.csr" -CA "$c/$4.pem" -CAkey "$c/$4.key" \
      -CAcreateserial -days 2 -extfile "$c/ca.cnf" -extensions "$name" \
      -out "$c/$name.pem" 2>>"$c/openssl.log"
  fi
}
