#!/usr/bin/env python
"""The checkout's entry point; an installed Vouch has the same as the ``vouch`` command."""

from config.cli import main

if __name__ == "__main__":
    main()
