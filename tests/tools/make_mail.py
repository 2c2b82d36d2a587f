#!/usr/bin/env python3
"""Writes an RFC 822 message to standard output, made with Python's own `email` package (an
implementation independent of carnet's GMime parser): the fixtures of tests/integration/mail_test.cc.

make_mail.py --from A --to B [--to C] [--subject S] [--text T]
             [--attach PATH:TYPE[:FILENAME]]... [--pad BYTES]
"""
import argparse
import sys
from email.message import EmailMessage
from email.policy import SMTP


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", action="append", required=True)
    p.add_argument("--subject", default="")
    p.add_argument("--text", default="")
    p.add_argument("--attach", action="append", default=[])
    p.add_argument("--pad", type=int, default=0, help="a text attachment of this many bytes")
    a = p.parse_args()
    m = EmailMessage()
    m["From"] = a.sender
    m["To"] = ", ".join(a.to)
    if a.subject:
        m["Subject"] = a.subject
    m.set_content(a.text)
    for spec in a.attach:
        path, mime, *name = spec.split(":")
        maintype, subtype = mime.split("/")
        with open(path, "rb") as f:
            data = f.read()
        filename = name[0] if name else path.rsplit("/", 1)[-1]
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if a.pad:
        m.add_attachment(b"x" * a.pad, maintype="text", subtype="plain", filename="pad.txt")
    sys.stdout.buffer.write(m.as_bytes(policy=SMTP))


if __name__ == "__main__":
    main()
