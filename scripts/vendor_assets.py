"""Refresh the vendored front-end libraries in ``shiyu/web/static/vendor/`` (served to browsers) and the
test-only ones in ``tests/e2e/vendor/`` (axe-core, injected by the accessibility checks) from the npm registry.

Usage: ``python scripts/vendor_assets.py`` (needs ``npm``; run by a developer, never at run time). Each
package is fetched with ``npm pack <name>@<version>``, only the built files listed below are copied, with the
package's licence file, into ``vendor/<name>-<version>/`` (a scoped name ``@scope/name`` becomes
``scope-name``), and ``vendor/MANIFEST.json`` records name,
version, licence, source and the sha256 of every file (``tests/web/test_assets.py`` checks it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "shiyu" / "web" / "static" / "vendor"
TEST_VENDOR = ROOT / "tests" / "e2e" / "vendor"

# (npm name, version, licence, files inside the package, licence file inside the package or None)
PACKAGES = [
    ("leaflet", "1.9.4", "BSD-2-Clause",
     ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png", "dist/images/layers-2x.png",
      "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png"], "LICENSE"),
    ("htmx.org", "2.0.4", "0BSD", ["dist/htmx.min.js"], "LICENSE"),
    # Alpine's CSP build: it parses x-* expressions itself instead of compiling them with ``new Function``, so
    # the pages work under a Content-Security-Policy without 'unsafe-eval' (shiyu.web.security_headers).
    ("@alpinejs/csp", "3.17.4", "MIT", ["dist/cdn.min.js"], None),
    ("echarts", "5.6.0", "Apache-2.0", ["dist/echarts.min.js"], "LICENSE"),
    ("leaflet.heat", "0.2.0", "BSD-2-Clause", ["dist/leaflet-heat.js"], "LICENSE"),
    ("leaflet.markercluster", "1.5.3", "MIT",
     ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css"],
     "MIT-LICENCE.txt"),
    # Drawing and splitting area boundaries on the administrator's map (shiyu/web/static/area_draw.js).
    ("@geoman-io/leaflet-geoman-free", "2.20.2", "MIT", ["dist/leaflet-geoman.min.js", "dist/leaflet-geoman.css"],
     "LICENSE"),
    # /api/docs serves Swagger UI from here (shiyu.web.api_docs), not from a CDN.
    ("swagger-ui-dist", "5.35.0", "Apache-2.0",
     ["swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "NOTICE", "favicon-32x32.png"],
     "LICENSE"),
]

# Only for the browser tests, never served: the accessibility rules engine (tests/e2e/axe.py).
TEST_PACKAGES = [
    ("axe-core", "4.14.1", "MPL-2.0", ["axe.min.js"], "LICENSE"),
]

# @alpinejs/csp publishes no licence file in its npm package; this is the MIT text of Alpine's repository.
ALPINE_LICENSE = """MIT License

Copyright © 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def directory(name: str, version: str) -> str:
    """``vendor/`` folder of a package: ``@alpinejs/csp`` 3.17.4 → ``alpinejs-csp-3.17.4``."""
    return f"{name.removeprefix('@').replace('/', '-')}-{version}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    vendor(VENDOR, PACKAGES)
    vendor(TEST_VENDOR, TEST_PACKAGES)


def vendor(into: Path, packages: list[tuple[str, str, str, list[str], str | None]]) -> None:
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, licence, files, licence_file in packages:
            out = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=tmp, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
            root = Path(tmp) / name
            with tarfile.open(Path(tmp) / out) as tar:
                tar.extractall(root, filter="data")
            target = into / directory(name, version)
            shutil.rmtree(target, ignore_errors=True)
            entries = {}
            for rel in files:
                dest = target / rel.removeprefix("dist/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / "package" / rel, dest)
            lic = target / "LICENSE"
            if licence_file:
                shutil.copyfile(root / "package" / licence_file, lic)
            else:
                lic.write_text(ALPINE_LICENSE, encoding="utf-8")
            for path in sorted(p for p in target.rglob("*") if p.is_file()):
                entries[path.relative_to(target).as_posix()] = sha256(path)
            manifest.append({"name": name, "version": version, "licence": licence, "source": f"npm:{name}",
                             "directory": target.name, "files": entries})
    (into / "MANIFEST.json").write_text(json.dumps({"packages": manifest}, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")


if __name__ == "__main__":
    main()
