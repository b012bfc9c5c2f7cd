"""Verified downloads: mirror lookup, checksums, retries with backoff, atomic writes, clear errors.

The network is a local HTTP server on 127.0.0.1 serving files from a temporary directory."""

import hashlib
import http.server
import threading

import pytest

from deepclust.data import remote as download
from deepclust.data.remote import DownloadError, Remote

PAYLOAD = b"deep clustering " * 1000
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class Server:
    """Serves ``files`` (name -> bytes); ``failures[name]`` requests answer 503 first;
    ``truncate[name]`` sends that many bytes less than Content-Length announces."""

    def __init__(self):
        self.files, self.failures, self.truncate, self.requests = {}, {}, {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append(name)
                if server.failures.get(name, 0) > 0:
                    server.failures[name] -= 1
                    self.send_error(503)
                    return
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) - server.truncate.get(name, 0)])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_mirror_file_found_by_name_anywhere_checksum_decides(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "FashionMNIST" / "raw").mkdir(parents=True)
    (mirror / "MNIST" / "raw").mkdir(parents=True)
    (mirror / "FashionMNIST" / "raw" / "data.gz").write_bytes(b"another dataset, same file name")
    (mirror / "MNIST" / "raw" / "data.gz").write_bytes(PAYLOAD)
    path = download.fetch(Remote("data.gz", md5=MD5), tmp_path / "res", mirror)
    assert path == tmp_path / "res" / "data.gz" and path.read_bytes() == PAYLOAD
    assert leftovers(tmp_path / "res") == ["data.gz"]


def test_present_valid_file_is_kept_and_a_bad_one_replaced(tmp_path):
    res, mirror = tmp_path / "res", tmp_path / "mirror"
    res.mkdir(), mirror.mkdir()
    (mirror / "data.gz").write_bytes(PAYLOAD)
    (res / "data.gz").write_bytes(PAYLOAD[:-1])  # truncated by an earlier crash (not via deepclust)
    download.fetch(Remote("data.gz", md5=MD5), res, mirror)
    assert (res / "data.gz").read_bytes() == PAYLOAD
    (mirror / "data.gz").unlink()
    assert download.fetch(Remote("data.gz", md5=MD5), res, mirror).read_bytes() == PAYLOAD  # no source needed


def test_corrupted_mirror_file_is_refused_and_nothing_left(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    corrupted = bytearray(PAYLOAD)
    corrupted[100] ^= 0xFF
    (mirror / "data.gz").write_bytes(bytes(corrupted))
    with pytest.raises(DownloadError) as error:
        download.fetch(Remote("data.gz", md5=MD5), tmp_path / "res", mirror)
    message = str(error.value)
    assert f"data.gz (md5 {MD5})" in message and f"wrong checksum: {mirror / 'data.gz'}" in message
    assert "no URL to download it from" in message
    assert leftovers(tmp_path / "res") == []


def test_download_retries_with_backoff_then_succeeds(server, tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(download.time, "sleep", sleeps.append)
    server.files["data.gz"] = PAYLOAD
    server.failures["data.gz"] = 2
    path = download.fetch(Remote("data.gz", urls=(f"{server.url}/data.gz",), md5=MD5), tmp_path, backoff=0.5)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["data.gz"] * 3 and sleeps == [0.5, 1.0]


def test_falls_back_to_the_next_url(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download.time, "sleep", lambda s: None)
    server.files["good/data.gz"] = PAYLOAD
    remote = Remote("data.gz", urls=(f"{server.url}/gone/data.gz", f"{server.url}/good/data.gz"), md5=MD5)
    assert download.fetch(remote, tmp_path, retries=2).read_bytes() == PAYLOAD
    assert server.requests == ["gone/data.gz", "gone/data.gz", "good/data.gz"]


@pytest.mark.parametrize("fault", ["truncated", "corrupted"])
def test_bad_download_fails_naming_url_file_and_checksum_leaving_nothing(server, tmp_path, monkeypatch, fault):
    monkeypatch.setattr(download.time, "sleep", lambda s: None)
    if fault == "truncated":
        server.files["data.gz"] = PAYLOAD
        server.truncate["data.gz"] = 500
    else:
        server.files["data.gz"] = PAYLOAD.replace(b"deep", b"DEEP", 1)
    url = f"{server.url}/data.gz"
    with pytest.raises(DownloadError) as error:
        download.fetch(Remote("data.gz", urls=(url,), md5=MD5), tmp_path / "res", retries=3)
    message = str(error.value)
    assert f"could not get data.gz (md5 {MD5})" in message and "no mirror directory" in message
    assert message.count(f"{url} (attempt") == 3
    if fault == "corrupted":
        assert f"expected md5 {MD5}" in message
    assert leftovers(tmp_path / "res") == []  # no partial file, no temp file


def test_alternative_accepted_from_the_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "repack.tar.gz").write_bytes(PAYLOAD)
    remote = Remote("original.tar.gz", urls=("http://127.0.0.1:9/never",), sha256="0" * 64,
                    alternatives=(Remote("repack.tar.gz", md5=MD5),))
    assert download.fetch(remote, tmp_path / "res", mirror).name == "repack.tar.gz"


def test_sha256_prefix_checksum(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "w.pth").write_bytes(PAYLOAD)
    prefix = hashlib.sha256(PAYLOAD).hexdigest()[:8]
    assert download.fetch(Remote("w.pth", sha256_prefix=prefix), tmp_path / "res", mirror).exists()
    with pytest.raises(DownloadError, match="sha256 starting 00000000"):
        download.fetch(Remote("w.pth", sha256_prefix="00000000"), tmp_path / "res2", mirror)


def test_remote_needs_exactly_one_checksum():
    with pytest.raises(ValueError, match="data.gz: give exactly one of md5, sha256, sha256_prefix"):
        Remote("data.gz")


def test_mirror_directory_from_config_or_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)
    assert download.mirror_directory(None) is None
    monkeypatch.setenv(download.MIRROR_ENV, str(tmp_path))
    assert download.mirror_directory(None) == tmp_path
    assert download.mirror_directory("/elsewhere") == download.Path("/elsewhere")  # config wins


def test_missing_mirror_directory_is_named(tmp_path):
    with pytest.raises(DownloadError, match=r"mirror directory .*nowhere does not exist"):
        download.fetch(Remote("data.gz", md5=MD5), tmp_path / "res", tmp_path / "nowhere")
