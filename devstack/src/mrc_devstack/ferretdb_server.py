"""FerretDB v1.24.2 with the SQLite backend: a MongoDB wire-protocol store without MongoDB.

``go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`` builds, but that binary panics
("Invalid build/version/version.txt") because the file is generated at release time. So we build our
own tiny wrapper around the embeddable package ``github.com/FerretDB/FerretDB/ferretdb``
(``devstack/ferretdb``: go.mod, go.sum and its Go files) into the shared cache, once; it is rebuilt
only when one of those files changes. The wrapper also keeps an index FerretDB's ``_id`` lookups can
use (``id_index.go``) and makes its update/delete commands atomic per collection (``atomic_writes.go``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mrc_devstack.paths import FERRETDB_MODULE_DIR, Layout
from mrc_devstack.tools import Echo, InstallError, digest, locked, read_stripped, require, run_visible

FERRETDB_VERSION = "v1.24.2"


def _sources() -> list[Path]:
    return [FERRETDB_MODULE_DIR / "go.mod", FERRETDB_MODULE_DIR / "go.sum", *sorted(FERRETDB_MODULE_DIR.glob("*.go"))]


def binary_path(layout: Layout) -> Path:
    return layout.bin / "ferretdb"


def install_binary(layout: Layout, echo: Echo) -> Path:
    binary = binary_path(layout)
    stamp = binary.with_name("ferretdb.sha256")
    wanted = digest(_sources())
    with locked(layout.cache / "install.lock"):
        if binary.is_file() and os.access(binary, os.X_OK) and read_stripped(stamp) == wanted:
            return binary
        go = require("go", "build FerretDB")
        echo(
            f"Building FerretDB {FERRETDB_VERSION} (SQLite backend) into {binary}: the first build downloads "
            "Go modules and compiles for a few minutes; later runs reuse the binary..."
        )
        staging = layout.bin / ".build"
        shutil.rmtree(staging, ignore_errors=True)
        env = dict(os.environ)
        env.update({"GOBIN": str(staging), "CGO_ENABLED": "0"})
        run_visible(
            [go, "install", "-v", "-buildvcs=false", "."],
            cwd=FERRETDB_MODULE_DIR,
            env=env,
            echo=echo,
            prefix="  [go] ",
            heartbeat="still compiling",
        )
        built = staging / "ferretdb"
        if not built.is_file():
            raise InstallError(f"go install finished but {built} is missing")
        built.replace(binary)
        shutil.rmtree(staging, ignore_errors=True)
        stamp.write_text(wanted + "\n")
        echo(f"FerretDB binary ready: {binary}")
    return binary


def command(layout: Layout, port: int) -> list[str]:
    binary = binary_path(layout)
    if not binary.is_file():
        raise InstallError(f"{binary} is missing; run `mrc-dev install` first")
    return [str(binary), "-listen-addr", f"127.0.0.1:{port}", "-sqlite-dir", str(layout.ferretdb_data)]
