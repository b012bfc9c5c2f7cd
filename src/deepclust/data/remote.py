"""Verified downloads: mirror first, then the network with retries; checksums always; atomic writes.

A file is looked for, in order: already in the dataset's resources directory (verified again),
anywhere under the mirror directory (found by name, the checksum decides between same-named files
such as MNIST's and Fashion-MNIST's), then at each URL with retries and exponential backoff. Every
write goes to a temporary file renamed into place only after its checksum matched, so an
interrupted or corrupted transfer never leaves a file that looks complete.
"""

import hashlib
import os
import shutil
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deepclust.io import atomic_path

MIRROR_ENV = "DEEPCLUST_DATA_MIRROR"
USER_AGENT = "deepclust (+https://github.com/deepclust)"


class DownloadError(RuntimeError):
    """A file could not be had with the expected checksum from the mirror or any URL."""


@dataclass(frozen=True)
class Remote:
    """One file: its name on disk, the URLs it can be downloaded from and its checksum.

    Exactly one checksum kind is required: ``md5``, ``sha256`` or ``sha256_prefix`` (torch hub's
    convention: the weights file name carries the first hex digits of its sha256).
    ``alternatives`` are other files accepted in its place from the mirror or the resources
    directory only (e.g. a documented repack of an archive whose original cannot be had)."""

    filename: str
    urls: tuple[str, ...] = ()
    md5: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    alternatives: tuple["Remote", ...] = field(default=())

    def __post_init__(self):
        if sum(c is not None for c in (self.md5, self.sha256, self.sha256_prefix)) != 1:
            raise ValueError(f"{self.filename}: give exactly one of md5, sha256, sha256_prefix")

    @property
    def checksum(self) -> str:
        if self.md5:
            return f"md5 {self.md5}"
        if self.sha256:
            return f"sha256 {self.sha256}"
        return f"sha256 starting {self.sha256_prefix}"

    def matches(self, path: Path) -> bool:
        if not path.is_file():
            return False
        if self.md5:
            return file_digest(path, "md5") == self.md5
        digest = file_digest(path, "sha256")
        return digest == self.sha256 if self.sha256 else digest.startswith(self.sha256_prefix)


def file_digest(path, algorithm: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def mirror_directory(configured=None) -> Path | None:
    """The mirror: the configured directory, else $DEEPCLUST_DATA_MIRROR, else none."""
    value = configured or os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def fetch(remote: Remote, directory, mirror=None, retries: int = 3, backoff: float = 1.0,
          timeout: float = 60.0) -> Path:
    """Path of ``remote`` (or an accepted alternative) inside ``directory``, verified.

    ``retries`` attempts are made per URL, sleeping ``backoff * 2**attempt`` seconds between them.
    Raises DownloadError naming the file, its expected checksum and every URL tried."""
    directory = Path(directory)
    candidates = (remote, *remote.alternatives)
    for candidate in candidates:
        if candidate.matches(directory / candidate.filename):
            return directory / candidate.filename
    mirror = Path(mirror) if mirror else None
    mirror_misses = []
    if mirror is not None:
        if not mirror.is_dir():
            raise DownloadError(f"mirror directory {mirror} does not exist")
        for candidate in candidates:
            for found in sorted(mirror.rglob(candidate.filename)):
                if candidate.matches(found):
                    return _install(found, directory / candidate.filename, candidate, shutil.copyfile)
                mirror_misses.append(str(found))
    failures = []
    for url in remote.urls:
        for attempt in range(retries):
            try:
                return _install(url, directory / remote.filename, remote, _download, timeout=timeout)
            except (OSError, DownloadError) as error:  # URLError and HTTPError are OSErrors
                failures.append(f"{url} (attempt {attempt + 1}): {error}")
                if attempt + 1 < retries:
                    time.sleep(backoff * 2**attempt)
    names = " or ".join(f"{c.filename} ({c.checksum})" for c in candidates)
    lines = [f"could not get {names} into {directory}"]
    if mirror is None:
        lines.append(f"no mirror directory (set data.mirror in the config or ${MIRROR_ENV})")
    elif mirror_misses:
        lines.append(f"in mirror {mirror}, wrong checksum: {', '.join(mirror_misses)}")
    else:
        lines.append(f"not found under mirror {mirror}")
    lines += failures or ["no URL to download it from"]
    raise DownloadError("\n  ".join(lines))


def _install(source, destination: Path, remote: Remote, copy, **kwargs) -> Path:
    """Copy or download ``source`` to a temporary file, check it, then rename it to ``destination``."""
    with atomic_path(destination) as tmp:
        copy(source, tmp, **kwargs)
        if not remote.matches(tmp):
            got = file_digest(tmp, "md5" if remote.md5 else "sha256")
            raise DownloadError(f"{source}: {remote.filename} has checksum {got}, expected {remote.checksum} "
                                f"({tmp.stat().st_size} bytes; truncated or corrupted)")
    return destination


def _download(url: str, path: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(path, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)
        expected = response.headers.get("Content-Length")
    if expected is not None and path.stat().st_size != int(expected):
        raise DownloadError(f"{url}: got {path.stat().st_size} of {expected} bytes")
