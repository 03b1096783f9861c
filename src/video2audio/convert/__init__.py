"""The convert function's capability: a stored video in, its audio out, with ffmpeg."""
