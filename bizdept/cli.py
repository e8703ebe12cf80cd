"""`bizdept …`: a thin wrapper over manage.py so an installed package needs no checkout.

    bizdept demo [--serve] [--addr 127.0.0.1:8000]   migrate, load the demo if empty, serve
    bizdept generate --size S|M|L                    a bigger department for benchmarks
    bizdept serve                                    gunicorn on $BIND (default 127.0.0.1:8000)
    bizdept <any manage.py command>
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizdept.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "serve":
        _serve(argv[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bizdept", *argv[1:]])


def _serve(args: list[str]) -> None:
    """Production-style server: gunicorn with a few workers."""
    bind = os.environ.get("BIND", "127.0.0.1:8000")
    workers = os.environ.get("WEB_CONCURRENCY", str(max(2, (os.cpu_count() or 1) * 2)))
    command = [sys.executable, "-m", "gunicorn", "bizdept.wsgi:application",
               "--bind", bind, "--workers", workers]
    if _gunicorn_major() >= 27:  # no shared ~/.gunicorn control socket between instances
        command.append("--no-control-socket")
    os.execvp(sys.executable, [*command, *args])


def _gunicorn_major() -> int:
    from importlib.metadata import version

    try:
        return int(version("gunicorn").split(".")[0])
    except Exception:
        return 0


if __name__ == "__main__":
    main()
