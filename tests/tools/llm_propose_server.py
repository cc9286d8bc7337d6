#!/usr/bin/env python3
"""A local LLM provider for the LLM searches' CLI tests: a real HTTP server
on 127.0.0.1 speaking the OpenAI-compatible chat-completions protocol
(POST /v1/chat/completions -> {"choices": [{"message": {"content": ...}}]}).

Each request is answered with the next `--per-reply` configs of a pool, as
{"configs": [...]} text, so every round brings new ones (a search's first
request, system + user message only, starts the pool over):

  --mode top      the pool is --configs (a JSON list of config objects),
                  in the given order (the test passes the landscape's best)
  --mode random   the pool is --configs shuffled (seed 0)
  --mode invalid  configs the space refuses (unknown fields, wrong types,
                  values outside their range) and text with no JSON
  --mode fail     every request gets HTTP 500 with a body that quotes the
                  Authorization header (the client must redact it)

It writes its port to --port-file once listening and appends one line per
request ({"path", "messages", "authorized"}) to --log when given. Stops on
SIGTERM.
"""
import argparse
import json
import random
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True,
                    choices=["top", "random", "invalid", "fail"])
    ap.add_argument("--configs", help="JSON file: a list of config objects")
    ap.add_argument("--per-reply", type=int, default=15)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()

    pool = []
    if a.configs:
        with open(a.configs) as f:
            pool = json.load(f)
    if a.mode == "random":
        random.Random(0).shuffle(pool)
    state = {"next": 0}

    def reply_text():
        if a.mode == "invalid":
            n = state["next"]
            state["next"] += 1
            bad = [{"no_such_field": 3}, {"num_warps": "many"},
                   {"block_size_x": -7}, {"block_size_x": [1, 2, 3]}, 17,
                   "a string"]
            return ("I think these are good: " if n % 2 else "") + \
                json.dumps({"configs": bad}) if n % 3 != 2 else \
                "Sorry, no configs this time."
        i = state["next"]
        state["next"] += a.per_reply
        return json.dumps({"configs": pool[i:i + a.per_reply]},
                          separators=(",", ":"))

    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(n) or b"{}")
            auth = self.headers.get("Authorization", "")
            if len(body.get("messages", [])) <= 2:
                state["next"] = 0  # a new search's first request

            if a.log:
                with open(a.log, "a") as f:
                    f.write(json.dumps({
                        "path": self.path,
                        "messages": len(body.get("messages", [])),
                        "authorized": auth.startswith("Bearer ")}) + "\n")
            if a.mode == "fail":
                out = json.dumps({"error": {
                    "message": "internal error; request had " + auth}})
                self.send_response(500)
            else:
                out = json.dumps({"choices": [{"index": 0, "message": {
                    "role": "assistant", "content": reply_text()}}]})
                self.send_response(200)
            data = out.encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = HTTPServer(("127.0.0.1", 0), H)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
