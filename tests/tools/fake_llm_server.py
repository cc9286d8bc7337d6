#!/usr/bin/env python3
"""fake_llm_server.py: a real HTTP server on 127.0.0.1 that stands in for the
LLM providers in tests/cli/test_llm_transport.sh.

    fake_llm_server.py DIR KEY CERTDIR

Three listeners: plain HTTP, HTTPS (CERTDIR/server.pem, key server.key) and
HTTPS that requires a client certificate signed by CERTDIR/ca.pem. When they
listen, "HTTP HTTPS MTLS" (the ports) is written to DIR/ports. The first path
segment names the case (CASES below): what the request must look like
(method, path, headers, JSON body) and what the server answers. A request
that does not match gets HTTP 418 "MISMATCH: <what>" (so the client's test
fails and says why); the log DIR/server.log has one line per request and
never the key or a header's value. Exits after 300 s at the latest.
"""
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

DIR, KEY, CERTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
LOG = open(os.path.join(DIR, "server.log"), "a", buffering=1)

OPENAI_TEXT = {
    "id": "resp_1", "object": "response", "status": "completed",
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "annotations": [], "text": "OPENAI-"},
            {"type": "refusal", "refusal": "not text"},
            {"type": "output_text", "text": "TEXT \u00e9"}]}],
    "usage": {"input_tokens": 1, "output_tokens": 2}}
ANTHROPIC_TEXT = {
    "id": "msg_1", "type": "message", "role": "assistant",
    "content": [{"type": "thinking", "thinking": "hmm", "signature": "x"},
                {"type": "text", "text": "ANTHROPIC-TEXT"}],
    "stop_reason": "end_turn"}
CHAT_TEXT = {"id": "c1", "object": "chat.completion", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "CHAT-TEXT"},
     "finish_reason": "stop"}]}

OPENAI_INPUT = [
    {"role": "user", "content": [{"type": "input_text", "text": "hello"}]},
    {"role": "assistant", "content": [{"type": "output_text", "text": "prev"}]},
    {"role": "user", "content": [{"type": "input_text", "text": "again"}]}]


def openai_headers(h):
    return [("authorization", "Bearer " + KEY),
            ("content-type", "application/json")]


def anthropic_headers(h, version="2023-06-01"):
    return [("x-api-key", KEY), ("anthropic-version", version),
            ("content-type", "application/json"), ("authorization", None)]


# case: endpoint, headers [(name, value or None for absent)], body, reply
CASES = {
    "openai-ok": dict(
        path="v1/responses",
        headers=openai_headers(None) + [("x-tenant", "t1"),
                                        ("x-gateway-token", "gw-123")],
        body={"model": "gpt-5-2", "input": OPENAI_INPUT,
              "max_output_tokens": 8192,
              "instructions": "sys one\n\nsys two"},
        reply=(200, OPENAI_TEXT)),
    "openai-effort": dict(
        path="v1/responses", headers=openai_headers(None),
        body={"model": "gpt-5.4", "input": OPENAI_INPUT[:1],
              "max_output_tokens": 8192, "reasoning": {"effort": "xhigh"}},
        reply=(200, {"output_text": "FLAT-TEXT"})),
    "anthropic-ok": dict(
        path="v1/messages", headers=anthropic_headers(None),
        body={"model": "claude-sonnet-4-5",
              "messages": [{"role": "user", "content": "hello"},
                           {"role": "assistant", "content": "prev"},
                           {"role": "user", "content": "again"}],
              "max_tokens": 8192, "temperature": 0.3, "system": "sys"},
        reply=(200, ANTHROPIC_TEXT)),
    "anthropic-adaptive": dict(
        path="v1/messages",
        headers=anthropic_headers(None, "2024-01-01"),
        body={"model": "claude-opus-4-7",
              "messages": [{"role": "user", "content": "hello"}],
              "max_tokens": 16384, "thinking": {"type": "adaptive"},
              "output_config": {"effort": "high"}},
        reply=(200, ANTHROPIC_TEXT)),
    "anthropic-budget": dict(
        path="v1/messages", headers=anthropic_headers(None),
        body={"model": "claude-opus-4-20250514",
              "messages": [{"role": "user", "content": "hello"}],
              "max_tokens": 9216,
              "thinking": {"type": "enabled", "budget_tokens": 1024}},
        reply=(200, ANTHROPIC_TEXT)),
    "chat-nokey": dict(
        path="v1/chat/completions",
        headers=[("authorization", None), ("x-api-key", None),
                 ("content-type", "application/json")],
        body={"model": "openai/gpt-oss-120b",
              "messages": [{"role": "system", "content": "sys"},
                           {"role": "user", "content": "hello"}],
              "max_tokens": 8192},
        reply=(200, CHAT_TEXT)),
    "chat-key": dict(
        path="v1/chat/completions", headers=openai_headers(None),
        body={"model": "local-model",
              "messages": [{"role": "user", "content": "hello"}],
              "max_tokens": 8192},
        reply=(200, CHAT_TEXT)),
}
for code in (401, 429, 500):
    CASES["http%d" % code] = dict(path="v1/responses", reply=(code, {
        "error": {"message": "Incorrect API key provided: " + KEY,
                  "type": "invalid_request_error"}}))
CASES["http500"]["reply"] = (500, "upstream failed\nfor key " + KEY + "\n")
CASES["redirect"] = dict(path="v1/responses", reply=(302, ""))
CASES["notjson"] = dict(path="v1/responses",
                        reply=(200, "<html>key " + KEY + "</html>"))
CASES["notobject"] = dict(path="v1/responses", reply=(200, "[1, 2]"))
CASES["notext"] = dict(path="v1/responses", reply=(200, {
    "output": [{"type": "reasoning", "summary": []}], "status": "incomplete"}))
CASES["huge"] = dict(path="v1/responses", reply=(200, "x" * (9 << 20)))
CASES["reset"] = dict(path="v1/responses", reply="reset")
CASES["stall"] = dict(path="v1/responses", reply="stall")


def check(case, handler, raw):
    """What is wrong with the request, or None."""
    if handler.command != "POST":
        return "method %s" % handler.command
    want_path = "/%s/%s" % (case["name"], case["path"])
    if handler.path != want_path:
        return "path %s, expected %s" % (handler.path, want_path)
    for name, value in case.get("headers", []):
        got = handler.headers.get_all(name) or []
        if value is None and got:
            return "header %s present" % name
        if value is not None and got != [value]:
            # Never the value: it may be the key.
            return "header %s wrong (%d values)" % (name, len(got))
    if "body" not in case:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return "body is not JSON"
    want = case["body"]
    if list(body.keys()) != list(want.keys()):
        return "body keys %s, expected %s" % (list(body), list(want))
    for k in want:
        if body[k] != want[k]:
            return "body %s is %s" % (k, json.dumps(body[k])[:200])
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, payload):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        data = data.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if code == 302:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        name = self.path.split("/")[1] if self.path.count("/") > 1 else ""
        case = CASES.get(name)
        if case is None:
            LOG.write("%s unknown case\n" % self.path)
            return self.send(404, {"error": "no case " + name})
        case = dict(case, name=name)
        why = check(case, self, raw)
        LOG.write("%s %s\n" % (self.path, why or "ok"))
        if why:
            return self.send(418, "MISMATCH: " + why)
        reply = case["reply"]
        if reply == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if reply == "stall":
            time.sleep(10)
            self.close_connection = True
            return
        self.send(*reply)

    do_GET = do_POST


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        LOG.write("connection error: %s\n" % sys.exc_info()[0].__name__)


def serve(tls, require_client):
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(CERTDIR, "server.pem"),
                            os.path.join(CERTDIR, "server.key"))
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.path.join(CERTDIR, "ca.pem"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


ports = [serve(False, False), serve(True, False), serve(True, True)]
tmp = os.path.join(DIR, "ports.tmp")
with open(tmp, "w") as f:
    f.write("%d %d %d\n" % tuple(ports))
os.rename(tmp, os.path.join(DIR, "ports"))
time.sleep(300)
