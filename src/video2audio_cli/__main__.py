"""``python -m video2audio_cli``."""

from video2audio_cli.cli import main

if __name__ == "__main__":
    main()
