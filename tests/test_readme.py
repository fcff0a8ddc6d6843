"""The README's examples are true: its marked shell blocks run against a live `serve`.

A block marked `<!-- readme-test: NAME -->` runs in bash (`set -euo pipefail`) from a scratch
directory, beside a real gunicorn server with its own data dir, as a user would paste it in a
second terminal. `localhost:8000` and `127.0.0.1:8000` become the server's port,
`.venv/bin/python` this interpreter, `KEY=lum_...` the admin key the server printed, the webhook
example's receiver a real local one, and the demo's 90 days 7 (the same code, less time). Each
`# → ` line is what the block must print: its pieces between `...` must appear in the output, in
order (text after two spaces is a remark).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, process_environ, served_lumen
from tests.routes.test_webhooks import Receiver

BLOCK = re.compile(r"<!-- readme-test: ([\w-]+) -->\n```sh\n(.*?)\n```", re.DOTALL)
BLOCKS = BLOCK.findall((ROOT / "README.md").read_text())
# The examples in the order the README tells them, which is the order they must run in.
EXPECTED_BLOCKS = [
    "quick-start",
    "demo",
    "import-export",
    "scopes",
    "api-examples",
    "routing",
    "webhooks",
]


def expectations(script: str) -> list[list[str]]:
    """The pieces each `# → ` line expects, in order."""
    found = []
    for line in script.splitlines():
        if line.lstrip().startswith("# → "):
            expected = line.split("# → ", 1)[1].split("  ", 1)[0]
            found.append([piece for piece in expected.split("...") if piece])
    return found


def check_output(output: str, pieces: list[list[str]]) -> None:
    position = 0
    for expected in pieces:
        for piece in expected:
            found = output.find(piece, position)
            assert found >= 0, f"{piece!r} not in the output after position {position}:\n{output}"
            position = found + len(piece)


def test_every_marked_block_is_known():
    assert [name for name, _ in BLOCKS] == EXPECTED_BLOCKS


def test_the_readme_examples_run_as_written(tmp_path):
    receiver = Receiver()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    try:
        with served_lumen(
            ["-m", "shortener", "serve"],
            1,
            tmp_path / "serve.log",
            {"LUMEN_WEBHOOK_ALLOW_PRIVATE": "1"},  # the stand-in receiver is local
        ) as (port, data):
            log = (tmp_path / "serve.log").read_text()
            key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
            env = process_environ(LUMEN_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
            for name, script in BLOCKS:
                runnable = (
                    script.replace("KEY=lum_...", f"KEY={key}")
                    .replace("localhost:8000", f"localhost:{port}")
                    .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                    .replace(".venv/bin/python", sys.executable)
                    .replace("https://hooks.example.com/lumen", receiver.url)
                    .replace("shortener demo ", "shortener demo --days 7 ")  # 90 take ~40 s
                )
                if name != "quick-start":
                    runnable = f"KEY={key}\n{runnable}"
                result = subprocess.run(
                    ["bash", "-c", "set -euo pipefail\n" + runnable],
                    cwd=scratch,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                assert result.returncode == 0, (name, result.stdout, result.stderr)
                check_output(result.stdout, expectations(runnable))
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("output", "line", "ok"),
    [
        ('{"a":1,"code":"x","id":2}', '# → {..."code":"x",..."id":2...}', True),
        ('{"a":1,"code":"y","id":2}', '# → {..."code":"x",..."id":2...}', False),
        ('{"id":2,"code":"x"}', '# → {..."code":"x",..."id":2...}', False),
    ],
)
def test_the_expectation_check_itself(output, line, ok):
    try:
        check_output(output, expectations(line))
    except AssertionError:
        assert not ok
    else:
        assert ok
