#!/usr/bin/env python3
"""Golden validation reports for the loader's report (src/loader/report.ts).

For each case of test/golden/frictionless/cases.json: the schema of the
fixture package's first resource (with the case's field changes) and the
case's CSV (or the fixture's own) are validated by frictionless, and the
errors' keys the loader must match are written to
test/golden/frictionless/<name>.golden.json.

Usage (from the repository root; FIXTURES is the fixture packages' folder,
the one holding fdp/):
  bash tools/golden/frictionless/venv.sh   # prints the venv's frictionless
  .cache/frictionless-venv/bin/python tools/golden/frictionless/generate.py FIXTURES
"""
import json
import os
import subprocess
import sys
import tempfile

KEYS = ["type", "rowNumber", "fieldName", "fieldNumber", "cell"]
# The note is compared where the loader says it the same way.
NOTED = {"type-error", "constraint-error"}


def main(fixtures: str) -> None:
    here = os.path.join("test", "golden", "frictionless")
    with open(os.path.join(here, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    binary = os.path.abspath(os.path.join(os.path.dirname(sys.executable), "frictionless"))
    for case in cases:
        pkg_dir = os.path.join(fixtures, "fdp", case["fixture"])
        with open(os.path.join(pkg_dir, "datapackage.json"), encoding="utf-8") as f:
            resource = json.load(f)["resources"][0]
        schema = resource["schema"]
        for field in schema["fields"]:
            field.update(case["fields"].get(field["name"], {}))
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data.csv")
            if case["csv"] is None:
                with open(os.path.join(pkg_dir, resource["path"]), "rb") as src, open(data, "wb") as dst:
                    dst.write(src.read())
            else:
                with open(data, "w", encoding="utf-8", newline="") as dst:
                    dst.write("\n".join(case["csv"]) + "\n")
            schema_path = os.path.join(tmp, "schema.json")
            with open(schema_path, "w", encoding="utf-8") as f:
                json.dump(schema, f)
            run = subprocess.run(
                # Relative paths: frictionless refuses absolute ones as unsafe.
                [binary, "validate", "--json", "data.csv", "--schema", "schema.json"],
                capture_output=True, text=True, check=False, cwd=tmp,
            )
            report = json.loads(run.stdout)
        task = report["tasks"][0]
        errors = []
        for e in task["errors"]:
            kept = {k: e[k] for k in KEYS if k in e}
            if e["type"] in NOTED:
                kept["note"] = e["note"]
            errors.append(kept)
        golden = {
            "valid": report["valid"],
            "stats": {k: task["stats"][k] for k in ("rows", "fields", "errors")},
            "errors": errors,
        }
        with open(os.path.join(here, case["name"] + ".golden.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(case["name"], len(errors), "errors")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
