#!/usr/bin/env python3
"""fake_llm_server.py: a real HTTP server on 127.0.0.1 that stands in for the
LLM providers in tests/cli/test_llm_transport.sh (the transport, through
tests/tools/llm_request), tests/cli/test_llm_cases.sh and test_llm.sh (the
LLM searches under `helion-tune simulate`, the "sim-" cases).

    fake_llm_server.py DIR KEY [CERTDIR]

Three listeners: plain HTTP, HTTPS (CERTDIR/server.pem, key server.key) and
HTTPS that requires a client certificate signed by CERTDIR/ca.pem; without
CERTDIR, plain HTTP only. When they listen, "HTTP HTTPS MTLS" (the ports;
"HTTP" alone without CERTDIR) is written to DIR/ports. The first path
segment names the case (CASES below): what the request must look like
(method, path, headers, JSON body) and what the server answers. A request
that does not match gets HTTP 418 "MISMATCH: <what>" (so the client's test
fails and says why); the log DIR/server.log has one line per request and
never the key or a header's value. The "sim-" cases also append each
request's messages to DIR/requests.jsonl ({"case", "messages"}: what the
tests read the prompts from). Exits after 300 s at the latest.
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

DIR, KEY = sys.argv[1], sys.argv[2]
CERTDIR = sys.argv[3] if len(sys.argv) > 3 else None
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

# --- the "sim-" cases: `helion-tune simulate tests/data/landscapes/
# gemm_RTX_3090.json.gz` with HELION_LLM_PROVIDER=openai-chat,
# HELION_LLM_MODEL=test-model and one LLM round (a first request: the
# system prompt and the first user prompt). Their replies hold configs of
# that landscape's space: SIM_OK are four measured configs (none is the
# space's default), in the landscape's key order.
GEMM_KEYS = ["MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI",
             "VWM", "VWN", "STRM", "STRN", "SA", "SB", "PRECISION"]
SIM_OK = [dict(zip(GEMM_KEYS, v)) for v in [
    (128, 128, 32, 16, 8, 16, 32, 2, 8, 2, 0, 0, 1, 1, 32),
    (128, 64, 32, 16, 8, 32, 16, 2, 4, 1, 0, 0, 1, 1, 32),
    (128, 128, 32, 16, 8, 32, 8, 2, 2, 8, 0, 0, 1, 1, 32),
    (32, 128, 32, 8, 32, 8, 32, 2, 4, 2, 0, 0, 1, 0, 32)]]


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def pythonish(v):
    """v as a Python literal: single quotes, True/False/None, a trailing
    comma in the list."""
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (pythonish(k), pythonish(x))
                               for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(pythonish(x) for x in v) + ",]"
    if isinstance(v, str):
        return "'" + v + "'"
    return {True: "True", False: "False", None: "None"}.get(v, str(v)) \
        if isinstance(v, bool) or v is None else str(v)


def sim_body(body, case):
    """What is wrong with a simulate's first chat request, or None."""
    if list(body) != ["model", "messages", "max_tokens"]:
        return "body keys %s" % list(body)
    if body["model"] != "test-model" or body["max_tokens"] != 8192:
        return "body model or max_tokens"
    msgs = body["messages"]
    if [m.get("role") for m in msgs] != ["system", "user"]:
        return "message roles %s" % [m.get("role") for m in msgs]
    if not all(isinstance(m.get("content"), str) and m["content"]
               and list(m) == ["role", "content"] for m in msgs):
        return "a message without text"
    user = msgs[1]["content"]
    # The prompt shows the landscape's space (what is measured) and never
    # the key.
    for want in ['"MWG"', "NVIDIA GeForce RTX 3090"]:
        if want not in user:
            return "the prompt lacks %s" % want
    if KEY in user or KEY in msgs[0]["content"]:
        return "the prompt holds the key"
    return None


def chat(text):
    return (200, {"id": "c1", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": "stop"}]})


ok_text = compact({"configs": SIM_OK})
SIM_REPLIES = {
    # (i) well-formed: 4 accepted
    "sim-ok": chat(ok_text),
    # (ii) a ```json fence with prose around it: 4 accepted
    "sim-fenced": chat("Here are configs to try:\n\n```json\n" +
                       json.dumps({"configs": SIM_OK}, indent=2) +
                       "\n```\n\nThe first favours large tiles."),
    # (iii) a Python literal: 3 accepted
    "sim-python": chat(pythonish({"configs": SIM_OK[:3], "done": True,
                                  "notes": None, "final": False})),
    # (iv) cut by the token limit inside the fourth config: the three
    # complete ones are salvaged, the cut one is neither kept nor counted
    "sim-truncated": chat(ok_text[:ok_text.index(compact(SIM_OK[3])) + 40]),
    # (v) two good configs and four the space refuses: an unknown key, a
    # wrong type, a value outside MWG's choices, a combination the
    # landscape never measured (outside the space)
    "sim-invalid": chat(compact({"configs": [
        dict(SIM_OK[0], BLOCK_M=64), SIM_OK[1], dict(SIM_OK[2], MWG="64"),
        dict(SIM_OK[2], MWG=48), SIM_OK[2],
        dict(zip(GEMM_KEYS, (64, 16, 32, 8, 8, 8, 8, 2, 1, 4, 0, 0, 0, 0,
                             32)))]})),
    # the provider's errors, each quoting the key (the client redacts it)
    "sim-http401": (401, {"error": {
        "message": "Incorrect API key provided: " + KEY,
        "type": "invalid_request_error"}}),
    "sim-http429": (429, {"error": {
        "message": "Rate limit reached for key " + KEY,
        "type": "rate_limit_error"}}),
    "sim-http500": (500, "upstream failed\nfor key " + KEY + "\n"),
    "sim-reset": "reset",
    "sim-stall": "stall",
}
for name, reply in SIM_REPLIES.items():
    CASES[name] = dict(path="v1/chat/completions",
                       headers=openai_headers(None), body=sim_body,
                       reply=reply, record=True)


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
    if callable(want):
        return want(body, case)
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
        if case.get("record"):
            try:
                msgs = json.loads(raw).get("messages")
            except (ValueError, AttributeError):
                msgs = None
            with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
                f.write(json.dumps({"case": name, "messages": msgs}) + "\n")
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


ports = [serve(False, False)]
if CERTDIR:
    ports += [serve(True, False), serve(True, True)]
tmp = os.path.join(DIR, "ports.tmp")
with open(tmp, "w") as f:
    f.write(" ".join("%d" % p for p in ports) + "\n")
os.rename(tmp, os.path.join(DIR, "ports"))
time.sleep(300)
