#!/usr/bin/python3
"""A local SMTP relay for tests (aiosmtpd), with or without STARTTLS.

  starttls_relay.py --port P --dir DIR [--cert CERT --key KEY] [--require-starttls]

With --cert and --key the relay offers STARTTLS (EHLO lists it) with that certificate;
without them it does not. Each message received is written to DIR/<n>.eml, preceded by a
line "X-Relay-TLS: yes" or "X-Relay-TLS: no" saying whether the session had switched to
TLS when the message came, and "X-Relay-Cipher: ..." when it had.
"""
import argparse
import asyncio
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        tls = session.ssl is not None
        head = "X-Relay-TLS: %s\r\n" % ("yes" if tls else "no")
        if tls:
            cipher = session.ssl.get("cipher") if isinstance(session.ssl, dict) else None
            head += "X-Relay-Cipher: %s\r\n" % (cipher[0] if cipher else "unknown")
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.directory, "%d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    context = None
    if a.cert and a.key:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)
    controller = Controller(Saver(a.dir), hostname="127.0.0.1", port=a.port,
                            tls_context=context,
                            require_starttls=bool(context and a.require_starttls))
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
