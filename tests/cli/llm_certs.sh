# llm_certs.sh: sourced by the LLM CLI tests against
# tests/tools/fake_llm_server.py (not a test itself: ctest runs
# tests/cli/test_*.sh only): the certificates and the set-up they share.
#
# llm_test_setup NAME SERVER: a temporary directory $tmp (removed at exit
# unless HELION_TEST_KEEP is set), no provider variable, proxy, CA or
# HELION_AUTOTUNER from outside, a random API key $KEY, the certificates in
# $c (llm_make_certs), and SERVER (fake_llm_server.py) started on them as
# $server_pid with its ports in $http_port $https_port $mtls_port. Exits
# the test on a failure.
llm_test_setup() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/helion_$1.XXXXXX")
  server_pid=
  trap llm_test_cleanup EXIT
  while read -r v; do unset "$v"; done < <(env | sed -n \
    's/^\(HELION_LLM_[A-Z_]*\|OPENAI_[A-Z_]*\|ANTHROPIC_[A-Z_]*\|CURL_CA_BUNDLE\|SSL_CERT_[A-Z_]*\|HELION_AUTOTUNER\|[a-zA-Z_]*_[pP][rR][oO][xX][yY]\)=.*/\1/p')
  export NO_PROXY='*'
  KEY="sk-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-SECRET"
  c="$tmp/certs"
  llm_make_certs "$c" ||
    { echo "FAIL: openssl could not make the test certificates"; cat "$c/openssl.log"; exit 1; }
  python3 "$2" "$tmp" "$KEY" "$c" >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do [ -f "$tmp/ports" ] && break; sleep 0.1; done
  [ -f "$tmp/ports" ] || { echo "FAIL: the fake server did not start"; cat "$tmp/server.out"; exit 1; }
  read -r http_port https_port mtls_port <"$tmp/ports"
}

llm_test_cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  if [ -n "${HELION_TEST_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

# llm_check_key_leaks: stops the server, then fails (the test's fail) when
# any file under $tmp holds $KEY; and when the same grep cannot find the
# key in a file that holds it (the check can fail).
llm_check_key_leaks() {
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
  if grep -rlF -- "$KEY" "$tmp" >"$tmp/leaks.txt" 2>/dev/null; then
    fail "the API key is in: $(tr '\n' ' ' <"$tmp/leaks.txt")"
  fi
  printf 'x %s y' "$KEY" >"$tmp/probe.txt"
  grep -qF -- "$KEY" "$tmp/probe.txt" || fail "the key grep finds nothing"
}

# llm_make_certs DIR makes, with the
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
