"""Video2Audio: the shared package behind every function."""
