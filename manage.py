#!/usr/bin/env python
"""Django's manage.py; the ``linli`` console command does the same with friendlier names."""

from linli.cli import main

if __name__ == "__main__":
    main()
