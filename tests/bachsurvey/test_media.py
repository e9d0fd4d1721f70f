"""Media are served with HTTP Range support (Safari plays no audio without it)."""

from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def clip(media_root: Path) -> str:
    (media_root / "clips").mkdir(parents=True)
    (media_root / "clips" / "abc.mp3").write_bytes(CONTENT)
    return "/media/clips/abc.mp3"


def test_it_serves_a_whole_file(client: Client, clip: str) -> None:
    response = client.get(clip)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == "1024"


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, 1023), ("bytes=-24", 1000, 1023),
     ("bytes=10-5000", 10, 1023), ("bytes=0-1", 0, 1)],
)  # fmt: skip
def test_it_serves_a_range(client: Client, clip: str, header: str, start: int, end: int) -> None:
    response = client.get(clip, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/1024"


def test_it_refuses_an_unsatisfiable_range(client: Client, clip: str) -> None:
    response = client.get(clip, HTTP_RANGE="bytes=2000-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize(
    "path", ["/media/clips/missing.mp3", "/media/../settings.py", "/media/%2e%2e/manage.py"]
)
def test_it_serves_nothing_else(client: Client, clip: str, path: str) -> None:
    assert client.get(path).status_code == 404
