"""`stemline serve`: the production web server (gunicorn) in front of stemline.wsgi.

Threaded workers (gunicorn's gthread): a thread blocked on a client that trickles its request
body is one of many, so /healthz and other clients are still answered at once, and the body
deadline (`--body-timeout`) frees that thread after a while (bench/slow_clients.py measures it:
with sync workers, 20 such clients stop the server).
"""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

# Threads per worker: more than the slow clients one worker may be holding at once (the kernel
# does not spread connections evenly over workers). Idle threads cost little, and a thread opens
# a database connection only when it serves a request that needs one.
DEFAULT_THREADS = 32
# Seconds a request body may take to arrive after the headers (a 20 MB upload at 1 MB/s fits).
DEFAULT_BODY_TIMEOUT = 30


def default_workers() -> int:
    # gunicorn's rule of thumb (2 x cores + 1), capped: each worker holds a copy of the app
    # and its own database connection, and four keep a small machine responsive.
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2 * (os.cpu_count() or 1) + 1, 4)


def _bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class Command(BaseCommand):
    help = "Serve Stemline with gunicorn (static files by whitenoise) after collectstatic."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="worker processes (WEB_CONCURRENCY, else 2 x cores + 1, at most 4)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("STEMLINE_THREADS") or DEFAULT_THREADS),
            help=f"threads per worker (STEMLINE_THREADS, else {DEFAULT_THREADS})",
        )
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a silent worker is restarted"
        )
        parser.add_argument(
            "--body-timeout",
            type=float,
            default=float(os.environ.get("STEMLINE_BODY_TIMEOUT") or DEFAULT_BODY_TIMEOUT),
            help="seconds a request body may take to arrive, then 408 "
            f"(STEMLINE_BODY_TIMEOUT, else {DEFAULT_BODY_TIMEOUT}; 0: no limit)",
        )
        parser.add_argument(
            "--no-access-log", action="store_true", help="do not log each request to stdout"
        )
        parser.add_argument(
            "--skip-collectstatic", action="store_true", help="static files are already collected"
        )

    def handle(self, *args, **options):
        from gunicorn.app.base import BaseApplication

        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        workers = options["workers"] or default_workers()
        if workers < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")

        if not options["skip_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        # The workers are forked from this process: none may inherit an open connection.
        connections.close_all()

        body_timeout = options["body_timeout"]
        settings = {
            "bind": _bind_address(options["host"], port),
            "workers": workers,
            # Always threaded, even with --threads 1: gthread waits for a request's headers in
            # its event loop, where a sync worker would block on a silent client.
            "worker_class": "gthread",
            "threads": options["threads"],
            "timeout": options["timeout"],
            "graceful_timeout": 20,
            "accesslog": None if options["no_access_log"] else "-",
            "errorlog": "-",
            # gunicorn's control socket has one default path per user, so a second server
            # (a demo beside a test run) would take it over; nothing here uses it.
            "control_socket_disable": True,
            "proc_name": "stemline",
        }

        class StemlineApplication(BaseApplication):
            def load_config(self):
                for key, value in settings.items():
                    self.cfg.set(key, value)

            def load(self):
                from stemline.core.bodytimeout import BodyDeadline
                from stemline.wsgi import application

                return BodyDeadline(application, body_timeout)

        self.stdout.write(
            f"Serving on http://{settings['bind']}/ with {workers} worker(s) x "
            f"{options['threads']} thread(s); Ctrl-C stops."
        )
        self.stdout.flush()
        StemlineApplication(prog="stemline serve").run()
