#!/usr/bin/env bash
# test_remote_cache.sh: the remote cache (HELION_REMOTE_CACHE, cache.h and
# cache_remote.h) against a real HTTP server that accepts PUT: nginx with a
# WebDAV location on 127.0.0.1, its config, pid, logs and temp paths in this
# test's directory, started and stopped here; requests without the right
# "Authorization: Bearer <token>" get 401. Tunes run on the benchmark
# worker's CPU test double with a fake libcuda (as tests/gpu/test_tune.sh).
# Machine A tunes and PUTs; machine B, with an empty cache directory, gets
# a remote hit and starts no benchmark worker; the same over HTTPS with a CA
# made here; a wrong CA, a wrong token, a body that is not a best_config, a
# dead port and the server stopped mid-run are each one warning and a run
# that completes; FORCE reads nothing but writes, SKIP asks nothing; the
# tokens are in no file the tool wrote. Without nginx this test fails (run
# tests/setup.sh); it never skips.
set -u
src="${HELION_SOURCE_DIR:?}"
. "$src/tests/cli/llm_certs.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/helion_remote.XXXXXX")
nginx_pid=
cleanup() {
  stop_nginx
  if [ -n "${HELION_TEST_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
has() { grep -qE -- "$2" "$1" || fail "$(basename "$1") lacks /$2/: $(cat "$1")"; }

NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null)
if [ -z "$NGINX" ]; then
  echo "FAIL: nginx is not installed; run tests/setup.sh (it installs Debian's nginx, which has the WebDAV module)"
  exit 1
fi
"$NGINX" -V 2>&1 | grep -q -- --with-http_dav_module ||
  { echo "FAIL: $NGINX lacks ngx_http_dav_module; run tests/setup.sh"; exit 1; }

# No proxy or remote-cache setting from outside; the tool's cache and
# worker are ours.
while read -r v; do unset "$v"; done < <(env | sed -n \
  's/^\(HELION_REMOTE_CACHE[A-Z_]*\|HELION_SKIP_CACHE\|HELION_FORCE_AUTOTUNE\|HELION_AUTOTUNE_CACHE\|CURL_CA_BUNDLE\|SSL_CERT_[A-Z_]*\|[a-zA-Z_]*_[pP][rR][oO][xX][yY]\)=.*/\1/p')
export NO_PROXY='*' HELION_AUTOTUNE_PROGRESS_BAR=0
WORKER="${HELION_TEST_TOOLS:?}/fake_bench_worker"
[ -x "$WORKER" ] || { echo "FAIL: no $WORKER"; exit 1; }
${CC:-cc} -shared -fPIC -o "$tmp/libcuda.so.1" "$src/tests/gpu/fake_libcuda.c" ||
  { echo "FAIL: cannot build the fake libcuda"; exit 1; }
export HELION_LIBCUDA_PATH="$tmp/libcuda.so.1"
printf '#!/bin/sh\ntouch "%s/worker-started"\nexit 1\n' "$tmp" >"$tmp/marker-worker"
chmod +x "$tmp/marker-worker"
SPEC="$src/samples/vector_add/vector_add.json"
TOKEN="tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-SECRET"
WRONG="tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-WRONG"

c="$tmp/certs"
llm_make_certs "$c" || { echo "FAIL: openssl could not make the certificates"; cat "$c/openssl.log"; exit 1; }

# ------------------------------------------------------------------ nginx
n="$tmp/nginx"
root="$n/root"
mkdir -p "$root/helion" "$n/tmp"
read -r port sport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat >"$n/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $n/nginx.pid;
error_log $n/error.log;
$( [ "$(id -u)" -eq 0 ] && echo "user root root;" )
events { worker_connections 64; }
http {
  access_log $n/access.log;
  client_body_temp_path $n/tmp/body;
  proxy_temp_path $n/tmp/proxy;
  fastcgi_temp_path $n/tmp/fastcgi;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    listen 127.0.0.1:$sport ssl;
    ssl_certificate $c/server.pem;
    ssl_certificate_key $c/server.key;
    root $root;
    location /helion/ {
      if (\$http_authorization != "Bearer $TOKEN") { return 401; }
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw;
    }
  }
}
CONF
start_nginx() {
  "$NGINX" -p "$n" -c "$n/nginx.conf" -e "$n/error.log" >>"$n/stdout" 2>&1 &
  nginx_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "FAIL: nginx did not start"; cat "$n/stdout" "$n/error.log"; exit 1
}
stop_nginx() {
  [ -n "$nginx_pid" ] || return 0
  kill "$nginx_pid" 2>/dev/null
  wait "$nginx_pid" 2>/dev/null
  nginx_pid=
}
start_nginx

HTTP="http://127.0.0.1:$port/helion/v1"
HTTPS="https://127.0.0.1:$sport/helion/v1"
export HELION_REMOTE_CACHE_HEADER="Authorization: Bearer $TOKEN"
# tune DIR [ARGS...]: the N=4096 tune with cache directory DIR; stderr in
# $tmp/err, stdout in $tmp/out.
tune() {
  local dir="$1"
  shift
  HELION_CACHE_DIR="$tmp/$dir" "$HELION_TUNE" tune "$SPEC" --effort quick \
    --max-evals 8 --seed 3 --json --tuned "$tmp/$dir.tuned.json" \
    --trace "$tmp/$dir.trace.jsonl" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  { echo "---- $dir $*"; cat "$tmp/err"; } >>"$tmp/all.err"
  return $rc
}
one_entry() { ls "$tmp/$1" 2>/dev/null | grep '\.best_config$'; }
warnings() { grep -c 'remote cache .*; going on with the local cache' "$tmp/err"; }
gets() { grep -c "\"$1 /helion/v1/" "$n/access.log"; }

# Machine A: a miss everywhere, a tune, a PUT of what it wrote locally.
HELION_REMOTE_CACHE="$HTTP" HELION_BENCH_WORKER="$WORKER" tune A --shape N=4096 ||
  fail "A: exit $? $(cat "$tmp/err")"
[ "$(warnings)" -eq 0 ] || fail "A: a warning: $(cat "$tmp/err")"
f=$(one_entry A)
[ -n "$f" ] || fail "A: no local entry"
[ -f "$root/helion/v1/$f" ] || fail "A: nothing PUT at helion/v1/$f: $(ls -R "$root")"
cmp -s "$tmp/A/$f" "$root/helion/v1/$f" || fail "A: the PUT body is not the local file"

# Machine B: an empty cache directory, a remote hit, no benchmark worker.
rm -f "$tmp/worker-started"
HELION_REMOTE_CACHE="$HTTP/" HELION_BENCH_WORKER="$tmp/marker-worker" tune B --shape N=4096 ||
  fail "B: exit $? $(cat "$tmp/err")"
[ -e "$tmp/worker-started" ] && fail "B: a remote hit started the benchmark worker"
has "$tmp/err" "Found $f in the remote cache"
has "$tmp/err" 'Found cached config for vector_add, skipping autotuning\.'
cmp -s "$tmp/A/$f" "$tmp/B/$f" || fail "B: the local cache does not hold the remote file"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["shapes"][0]["cached"] is True' \
  "$tmp/out" || fail "B: the shape is not reported cached"

# HTTPS with the test's CA: a hit again (machine C).
HELION_REMOTE_CACHE="$HTTPS" HELION_REMOTE_CACHE_CA_BUNDLE="$c/ca.pem" \
  HELION_BENCH_WORKER="$tmp/marker-worker" tune C --shape N=4096 ||
  fail "https: exit $? $(cat "$tmp/err")"
[ -e "$tmp/worker-started" ] && fail "https: a remote hit started the benchmark worker"
has "$tmp/err" "Found $f in the remote cache"

# HTTPS with another CA: verification is on, so one warning and a tune.
HELION_REMOTE_CACHE="$HTTPS" HELION_REMOTE_CACHE_CA_BUNDLE="$c/other.pem" \
  HELION_BENCH_WORKER="$WORKER" tune D --shape N=4096 ||
  fail "wrong CA: exit $? $(cat "$tmp/err")"
[ "$(warnings)" -eq 1 ] || fail "wrong CA: want one warning: $(cat "$tmp/err")"
has "$tmp/err" "remote cache https://127\.0\.0\.1:$sport/helion/v1: GET $f: .*(certificate|SSL).*; going on with the local cache"
[ -n "$(one_entry D)" ] || fail "wrong CA: no local entry"

# A wrong token: 401, one warning, the run tunes and completes; no PUT.
rm -f "$root/helion/v1/"*
HELION_REMOTE_CACHE="$HTTP" HELION_REMOTE_CACHE_HEADER="Authorization: Bearer $WRONG" \
  HELION_BENCH_WORKER="$WORKER" tune E --shape N=4096 ||
  fail "wrong token: exit $? $(cat "$tmp/err")"
[ "$(warnings)" -eq 1 ] || fail "wrong token: want one warning: $(cat "$tmp/err")"
has "$tmp/err" "remote cache $HTTP: GET $f: HTTP 401; going on with the local cache"
[ -e "$root/helion/v1/$f" ] && fail "wrong token: a PUT after the remote gave up"

# No header at all: 401 as well.
HELION_REMOTE_CACHE="$HTTP" HELION_REMOTE_CACHE_HEADER= \
  HELION_BENCH_WORKER="$WORKER" tune E2 --shape N=4096 || fail "no header: exit $?"
has "$tmp/err" "GET $f: HTTP 401"

# A body that is not a best_config: one warning, a tune, no PUT over it.
echo '{"not": "a best_config"}' >"$root/helion/v1/$f"
HELION_REMOTE_CACHE="$HTTP" HELION_BENCH_WORKER="$WORKER" tune F --shape N=4096 ||
  fail "bad body: exit $? $(cat "$tmp/err")"
[ "$(warnings)" -eq 1 ] || fail "bad body: want one warning: $(cat "$tmp/err")"
has "$tmp/err" "GET $f: not a best_config \(.*\); going on with the local cache"
grep -q '"not"' "$root/helion/v1/$f" || fail "bad body: PUT after the remote gave up"
rm -f "$root/helion/v1/$f"

# FORCE: no GET, still a PUT. SKIP: no request at all.
g=$(gets GET) p=$(gets PUT)
HELION_FORCE_AUTOTUNE=1 HELION_REMOTE_CACHE="$HTTP" HELION_BENCH_WORKER="$WORKER" \
  tune A --shape N=4096 || fail "FORCE: exit $?"
[ "$(gets GET)" -eq "$g" ] || fail "FORCE: a GET was sent"
[ "$(gets PUT)" -eq $((p + 1)) ] || fail "FORCE: want one PUT"
cmp -s "$tmp/A/$f" "$root/helion/v1/$f" || fail "FORCE: the PUT body is not the local file"
g=$(gets GET) p=$(gets PUT)
HELION_SKIP_CACHE=1 HELION_REMOTE_CACHE="$HTTP" HELION_BENCH_WORKER="$WORKER" \
  tune G --shape N=4096 || fail "SKIP: exit $?"
[ "$(gets GET)" -eq "$g" ] && [ "$(gets PUT)" -eq "$p" ] || fail "SKIP: a request was sent"

# The server stopped mid-run: three shapes miss (three GETs answered 404),
# the benchmark worker stops the server as it starts, so the first PUT
# fails: one warning, no further request, every shape tuned and recorded.
cat >"$tmp/stopping-worker" <<SH
#!/bin/sh
kill \$(cat "$n/nginx.pid")
for i in \$(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  sleep 0.05
done
exec "$WORKER" "\$@"
SH
sed -i '1s|.*|#!/usr/bin/env bash|' "$tmp/stopping-worker"
chmod +x "$tmp/stopping-worker"
g=$(gets GET)
HELION_REMOTE_CACHE="$HTTP" HELION_BENCH_WORKER="$tmp/stopping-worker" \
  tune H --shape N=1024 --shape N=2048 --shape N=8192 ||
  fail "stopped: exit $? $(cat "$tmp/err")"
[ "$(gets GET)" -eq $((g + 3)) ] || fail "stopped: want three GETs before the stop"
[ "$(warnings)" -eq 1 ] || fail "stopped: want one warning: $(cat "$tmp/err")"
has "$tmp/err" "remote cache $HTTP: PUT [0-9a-f]{64}\.best_config: .*; going on with the local cache"
[ "$(one_entry H | wc -l)" -eq 3 ] || fail "stopped: want three local entries"
python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["entries"]) == 3' \
  "$tmp/H.tuned.json" || fail "stopped: the results file lacks the three shapes"
wait "$nginx_pid" 2>/dev/null
nginx_pid=

# A dead port from the start: one warning, the run completes.
HELION_REMOTE_CACHE="http://user:pw-SECRET@127.0.0.1:$port/helion/v1" \
  HELION_BENCH_WORKER="$WORKER" tune I --shape N=4096 --shape N=2048 ||
  fail "dead port: exit $? $(cat "$tmp/err")"
[ "$(warnings)" -eq 1 ] || fail "dead port: want one warning: $(cat "$tmp/err")"
has "$tmp/err" "remote cache http://127\.0\.0\.1:$port/helion/v1: GET [0-9a-f]{64}\.best_config: .*; going on with the local cache"

# A malformed setting is a usage error naming the variable.
HELION_REMOTE_CACHE="ftp://x/y" tune J --shape N=4096
[ $? -ne 0 ] && grep -q 'HELION_REMOTE_CACHE=.ftp://x/y.: expected' "$tmp/err" ||
  fail "ftp URL: want a usage error: $(cat "$tmp/err")"
HELION_REMOTE_CACHE="$HTTP" HELION_REMOTE_CACHE_HEADER="no colon $TOKEN" tune J --shape N=4096
[ $? -ne 0 ] && grep -q 'HELION_REMOTE_CACHE_HEADER: expected' "$tmp/err" ||
  fail "header without a colon: want a usage error: $(cat "$tmp/err")"

# No token (nor the URL's password) in anything the tool wrote: logs,
# traces, results, cache directories (nginx's own files hold the token in
# its config and are the server's, not ours).
for secret in "$TOKEN" "$WRONG" "pw-SECRET"; do
  leaks=$(grep -rlF --exclude-dir=nginx -- "$secret" "$tmp")
  [ -z "$leaks" ] || fail "a secret is in: $leaks"
done
printf 'x %s y' "$TOKEN" >"$tmp/probe.txt"
[ -n "$(grep -rlF --exclude-dir=nginx -- "$TOKEN" "$tmp")" ] || fail "the token grep finds nothing"
rm -f "$tmp/probe.txt"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo ok
