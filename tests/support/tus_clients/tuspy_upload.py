"""Upload a file with tuspy, the official Python tus client, unmodified; run as its own process.

    python tuspy_upload.py ENDPOINT TOKEN FILE CHUNK_SIZE [UPLOAD_URL] [key=value ...]

Prints ``URL <upload url>`` once the upload exists, ``OFFSET <n>`` after every chunk and ``DONE``
at the end, each line flushed, so a test can kill it part-way and resume with a new process.
"""

from __future__ import annotations

import sys

from tusclient.client import TusClient


def main(argv: list[str]) -> int:
    endpoint, token, path, chunk_size = argv[:4]
    rest = argv[4:]
    url = rest.pop(0) if rest and rest[0].startswith("http") else None
    metadata = dict(item.split("=", 1) for item in rest)
    client = TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
    uploader = client.uploader(
        file_path=path, url=url, chunk_size=int(chunk_size), metadata=metadata
    )
    if uploader.url is None:  # tuspy's public API: create the upload now, to know its URL
        uploader.set_url(uploader.create_url())
    print(f"URL {uploader.url}", flush=True)
    while uploader.offset < uploader.get_file_size():
        uploader.upload_chunk()
        print(f"OFFSET {uploader.offset}", flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
