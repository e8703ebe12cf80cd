"""`bizdept …`: a thin wrapper over manage.py so an installed package needs no checkout.

    bizdept demo [--serve] [--addr 127.0.0.1:8000]   migrate, load the demo if empty, serve
    bizdept generate --size S|M|L                    a bigger department for benchmarks
    bizdept serve                                    gunicorn on $BIND (default 127.0.0.1:8000)
                                                     and the task worker (db_worker) beside it
    bizdept db_worker                                the background task worker alone
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
    """Production-style server: gunicorn with a few workers, and the background task
    worker (``db_worker``: Excel imports...) beside it, stopped with it.
    ``BIZDEPT_TASK_WORKER=0`` leaves the worker out (run ``bizdept db_worker`` elsewhere)."""
    bind = os.environ.get("BIND", "127.0.0.1:8000")
    workers = os.environ.get("WEB_CONCURRENCY", str(max(2, (os.cpu_count() or 1) * 2)))
    command = [sys.executable, "-m", "gunicorn", "bizdept.wsgi:application",
               "--bind", bind, "--workers", workers]
    if _gunicorn_major() >= 27:  # no shared ~/.gunicorn control socket between instances
        command.append("--no-control-socket")
    if not _worker_wanted():
        os.execvp(sys.executable, [*command, *args])
    import signal
    import subprocess

    worker = start_task_worker()
    server = subprocess.Popen([*command, *args])

    def forward(signum, _frame):
        server.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        code = server.wait()
    finally:
        stop_task_worker(worker)
    sys.exit(code)


def _worker_wanted() -> bool:
    return os.environ.get("BIZDEPT_TASK_WORKER", "1").strip().lower() not in {"0", "false",
                                                                            "no", "off"}


def start_task_worker():
    """``bizdept db_worker`` as a child process (the background tasks' worker), or None
    when ``BIZDEPT_TASK_WORKER=0`` says a worker runs elsewhere."""
    import subprocess

    if not _worker_wanted():
        return None
    return subprocess.Popen([sys.executable, "-m", "bizdept.cli", "db_worker", "--no-reload",
                             "--queue-name", "*"])


def stop_task_worker(worker) -> None:
    """Stop the worker: SIGTERM lets it finish its task's current step; killed after 10 s."""
    import subprocess

    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _gunicorn_major() -> int:
    from importlib.metadata import version

    try:
        return int(version("gunicorn").split(".")[0])
    except Exception:
        return 0


if __name__ == "__main__":
    main()
