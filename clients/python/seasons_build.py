"""The client's own PEP 517 build backend: standard library only, so it builds offline.

``pip install <site>/client/latest`` downloads the source zip the site serves and
builds it with this backend (``requires = []`` in pyproject.toml: nothing to fetch);
the site builds the wheel it serves with the same ``wheel_bytes``. A wheel is a zip
holding the package and a ``*.dist-info`` folder (METADATA, WHEEL, entry_points.txt,
RECORD); timestamps are fixed and names sorted, so the bytes are deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import zipfile
from pathlib import Path

NAME = "seasons-client"
PACKAGE = "seasons_client"
SUMMARY = "Link or upload W&B runs to a Seasons portfolio (standard library only)."
REQUIRES_PYTHON = ">=3.9"
SCRIPTS = {"seasons": "seasons_client.cli:main"}
_STAMP = (1980, 1, 1, 0, 0, 0)
HERE = Path(__file__).resolve().parent


def package_version(root: Path = HERE) -> str:
    """The version written in the package's ``__init__.py``."""
    text = (root / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if found is None:
        raise ValueError("seasons_client/__init__.py has no __version__")
    return found.group(1)


def _zip(files: dict, prefix: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(prefix + name, date_time=_STAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, files[name])
    return out.getvalue()


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def metadata(root: Path = HERE) -> str:
    """The core metadata (METADATA / PKG-INFO)."""
    text = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {package_version(root)}\n"
        f"Summary: {SUMMARY}\nLicense: MIT\nRequires-Python: {REQUIRES_PYTHON}\n"
    )
    readme = root / "README.md"
    if readme.is_file():
        text += "Description-Content-Type: text/markdown\n\n" + readme.read_text("utf-8")
    return text


def wheel_name(root: Path = HERE) -> str:
    return f"{PACKAGE}-{package_version(root)}-py3-none-any.whl"


def wheel_bytes(root: Path = HERE) -> bytes:
    """Build the wheel in memory from the sources under ``root``."""
    info = f"{PACKAGE}-{package_version(root)}.dist-info"
    files = {f"{PACKAGE}/{p.name}": p.read_bytes() for p in sorted((root / PACKAGE).glob("*.py"))}
    files[f"{info}/METADATA"] = metadata(root).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: seasons_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    scripts = "".join(f"{k} = {v}\n" for k, v in SCRIPTS.items())
    files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{scripts}".encode()
    record = [_record_line(name, data) for name, data in sorted(files.items())]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    return _zip(files)


def source_files(root: Path = HERE) -> dict:
    """What a source distribution holds: enough to build the wheel with this backend."""
    files = {p.name: p.read_bytes() for p in (root / "pyproject.toml", root / "seasons_build.py")}
    files["PKG-INFO"] = metadata(root).encode()
    if (root / "README.md").is_file():
        files["README.md"] = (root / "README.md").read_bytes()
    for path in sorted((root / PACKAGE).glob("*.py")):
        files[f"{PACKAGE}/{path.name}"] = path.read_bytes()
    return files


def source_zip_name(root: Path = HERE) -> str:
    return f"{PACKAGE}-{package_version(root)}.zip"


def source_zip(root: Path = HERE) -> bytes:
    """The source distribution as a zip (what the site's /client/latest serves to pip)."""
    return _zip(source_files(root), prefix=f"{PACKAGE}-{package_version(root)}/")


# --- PEP 517 hooks ------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = wheel_name()
    (Path(wheel_directory) / name).write_bytes(wheel_bytes())
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = f"{PACKAGE}-{package_version()}"
    path = Path(sdist_directory) / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in sorted(source_files().items()):
            entry = tarfile.TarInfo(f"{base}/{name}")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, 315532800
            archive.addfile(entry, io.BytesIO(data))
    return path.name
