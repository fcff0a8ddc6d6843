"""Schemathesis against the live OpenAPI document of a served Lumen (gunicorn, real Redis).

Bounded (MAX_EXAMPLES per operation, a fixed seed) so it stays under half a minute here: no server
error, no answer outside the documented statuses, content types, headers and schemas, and a 405
with `Allow` for every undocumented method. docs/RELIABILITY.md reports the figures.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from shortener.openapi import openapi_document
from tests.conftest import served_lumen

MAX_EXAMPLES = 15
SEED = 13
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    with served_lumen(["-m", "shortener", "serve"], 2, tmp_path / "serve.log") as (port, _):
        log = (tmp_path / "serve.log").read_text()
        key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"http://127.0.0.1:{port}/api/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--request-timeout",
                "10",
                "--generation-database",
                "none",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", output).groups())
    assert generated == passed > 500, output[-2000:]  # every operation was really exercised
    operations = sum(
        method in ("get", "post", "put", "patch", "delete")
        for item in openapi_document()["paths"].values()
        for method in item
    )
    assert f"{operations} selected / {operations} total" in output
