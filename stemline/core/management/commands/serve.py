"""`stemline serve`: the production web server (gunicorn) in front of stemline.wsgi."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


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
            "--threads", type=int, default=1, help="threads per worker (1: sync workers)"
        )
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a silent worker is restarted"
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

        settings = {
            "bind": _bind_address(options["host"], port),
            "workers": workers,
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
                from stemline.wsgi import application

                return application

        self.stdout.write(
            f"Serving on http://{settings['bind']}/ with {workers} worker(s); Ctrl-C stops."
        )
        self.stdout.flush()
        StemlineApplication(prog="stemline serve").run()
