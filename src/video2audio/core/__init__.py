"""The bottom layer: settings, errors, logging, tokens, time and text. Imports nothing of ours."""
