#!/usr/bin/env python3
"""A minimal fake Telegram Bot API on loopback for tests/openclaw_cli_e2e.sh (the Rust fake in
openclaw-channels' test support is the full one). POST /bot<token>/<method> with JSON; answers
getMe, deleteWebhook, setMyCommands, getUpdates (empty, after a short wait), sendMessage,
sendChatAction, sendPhoto; appends every request as one JSON line to the log file.

    fake_telegram.py <port> <token> <log file>
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, token, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
next_id = [100]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        prefix = f"/bot{token}/"
        if not self.path.startswith(prefix):
            return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = self.path[len(prefix):]
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw_bytes": len(raw)}
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"method": method, "body": body}) + "\n")
        if method == "getMe":
            return self.answer(200, {"ok": True, "result": {"id": 999000, "is_bot": True, "first_name": "Fake", "username": "fake_bot"}})
        if method == "getUpdates":
            time.sleep(min(float(body.get("timeout", 0)), 1.0))
            return self.answer(200, {"ok": True, "result": []})
        if method in ("sendMessage", "sendPhoto"):
            with lock:
                next_id[0] += 1
                mid = next_id[0]
            chat = body.get("chat_id", 0)
            return self.answer(200, {"ok": True, "result": {"message_id": mid, "date": int(time.time()),
                                                            "chat": {"id": int(chat) if str(chat).lstrip("-").isdigit() else 0, "type": "private"},
                                                            "text": body.get("text", "")}})
        return self.answer(200, {"ok": True, "result": True})


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
