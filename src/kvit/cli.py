"""The `kvit` command: Django's management commands with Kvit's settings.

`kvit seed`, `kvit migrate`, `kvit runserver` … are the same as `manage.py …`.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvit.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
