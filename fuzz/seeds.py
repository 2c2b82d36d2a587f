#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, selected from the repository's test data.

Usage: fuzz/seeds.py OUT_DIR   (writes OUT_DIR/<target>/<name>; idempotent)

The seeds are generated at run time from tests/data and ../shared/testdata (see their
SOURCE.txt), so that git holds no copy of them; fuzz/corpus/<target>/ holds only the small
hand-written seeds and the inputs of past findings.
"""
import hashlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "testdata"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/testdata")
TESTS = ROOT / "tests" / "data"
# search_fuzzer.cc's table: the byte before the query picks the type.
SEARCH_TYPES = ["Patient", "Observation", "DocumentReference", "Encounter", "Condition", "List",
                "AuditEvent", "Practitioner", "MedicationRequest", "Immunization", "Provenance"]
MAX_SEED = 1 << 20  # libFuzzer mutates up to the longest seed: keep that bounded


def files(base, pattern):
    return sorted(p for p in base.glob(pattern) if p.is_file()) if base.is_dir() else []


class Corpus:
    def __init__(self, out):
        self.out = Path(out)

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        if not data or len(data) > MAX_SEED:
            return
        d = self.out / target
        d.mkdir(parents=True, exist_ok=True)
        path = d / hashlib.sha1(data).hexdigest()
        if not path.exists():
            path.write_bytes(data)

    def add_files(self, target, paths):
        for p in paths:
            self.add(target, p.read_bytes())


def split_http(raw):
    """(head, body) of a captured HTTP message; the head's lines without trailing blanks."""
    m = re.search(rb"\r?\n\r?\n", raw)
    if not m:
        return raw, b""
    return raw[:m.start()], raw[m.end():]


def main():
    c = Corpus(sys.argv[1])
    fhir_json = files(SHARED / "fhir" / "r4-examples", "*.json") + files(TESTS, "fhirpath/*.json") \
        + files(TESTS, "cda/expected_resources/*.json")
    c.add_files("json", fhir_json)
    c.add_files("fhir_xml", files(SHARED / "fhir" / "r4-examples", "*.xml")
                + [p for p in files(SHARED / "fhir" / "fhirpath", "*.xml") if not p.name.startswith("tests-")])

    patch_tests = SHARED / "fhir" / "patch" / "json-patch-tests.json"
    if patch_tests.is_file():
        for t in json.loads(patch_tests.read_text()):
            if "patch" in t and "doc" in t:
                c.add("json_patch", json.dumps(t["patch"]) + "\n---\n" + json.dumps(t["doc"]))
                c.add("json_patch", json.dumps(t["patch"]))

    xds = files(SHARED / "xds" / "messages", "*.xml") + files(TESTS, "xds/*.xml")
    c.add_files("soap", [p for p in xds if p.name.startswith("soap-")] +
                files(SHARED / "xds" / "messages", "empty-soap-wrapper.xml"))
    c.add_files("ebrim", [p for p in xds if not p.name.startswith("soap-")] +
                [p for p in files(SHARED / "xds" / "testkit", "**/*.xml") if p.name != "testplan.xml"])

    for p in files(SHARED / "xds" / "messages", "http-*.txt") + files(TESTS, "xds/http-*.txt"):
        head, body = split_http(p.read_bytes())
        c.add("http_head", head.replace(b" \r\n", b"\r\n").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n")
        ctype = re.search(rb"(?im)^content-type:[ \t]*(.*?)[ \t]*\r?$", head)
        if ctype:
            c.add("mtom", ctype.group(1) + b"\n" + body)

    cda = files(SHARED / "cda" / "ci-sis", "*.xml")
    c.add_files("cda_header", cda)
    c.add_files("cda_entries", cda)

    tests = SHARED / "fhir" / "fhirpath" / "tests-fhir-r4.xml"
    if tests.is_file():
        import html
        for e in re.findall(r"<expression[^>]*>(.*?)</expression>", tests.read_text(), re.S):
            c.add("fhirpath", html.unescape(e))

    for p in files(TESTS, "search/*.txt"):
        for line in p.read_text().splitlines():
            m = re.match(r"search (\w+)\?(\S*)", line)
            if m and m.group(1) in SEARCH_TYPES:
                c.add("search", bytes([SEARCH_TYPES.index(m.group(1))]) + m.group(2).encode())
                c.add("http_head", f"GET /fhir/{m.group(1)}?{m.group(2)} HTTP/1.1\r\nHost: x\r\n\r\n")


if __name__ == "__main__":
    main()
