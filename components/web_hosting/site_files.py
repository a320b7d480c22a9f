"""The files of `web/` that the hosting component uploads, each with its content type and caching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SITE_ROOT = Path(__file__).resolve().parents[2] / "web"

# Explicit types: S3 serves whatever Content-Type the object was given, and browsers refuse
# ES modules (and AudioWorklet modules) served without a JavaScript type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# Pages and modules change with each deploy and are small: browsers revalidate them (ETag).
REVALIDATE = "no-cache"
# The stack's own config.json is written by the component, never taken from the folder.
GENERATED = {"config.json"}


@dataclass(frozen=True)
class SiteFile:
    """One file to upload: its key in the bucket, its path on disk, and its headers."""

    key: str
    path: Path
    content_type: str
    cache_control: str = REVALIDATE


def site_files(root: Path = SITE_ROOT) -> list[SiteFile]:
    """Every file under `root` to upload, in a stable order; raises for a type it cannot serve."""
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"{root} has no index.html: the web pages are missing")
    files: list[SiteFile] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or relative.as_posix() in GENERATED:
            continue
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None:
            raise ValueError(f"web/{relative.as_posix()}: no content type known for '{path.suffix}'; add it to CONTENT_TYPES")
        files.append(SiteFile(key=relative.as_posix(), path=path, content_type=content_type))
    return files
