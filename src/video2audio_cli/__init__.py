"""``video2audio``: the command-line client of the Video2Audio HTTP API."""
