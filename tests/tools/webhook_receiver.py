#!/usr/bin/env python3
"""A local webhook receiver for the notification tests: every POST body is written to
DIR/<n>.json (n counting from 1) and answered 200. Usage: webhook_receiver.py PORT DIR"""
import http.server
import os
import sys

PORT, DIR = int(sys.argv[1]), sys.argv[2]
os.makedirs(DIR, exist_ok=True)


class Handler(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        Handler.count += 1
        path = os.path.join(DIR, "%d.json" % Handler.count)
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.rename(path + ".tmp", path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
