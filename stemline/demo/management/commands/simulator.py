"""`stemline simulator`: the marketplace simulator, with the bundles of the channels it plays."""

import json
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stemline.demo.simulator import Simulator


class Command(BaseCommand):
    help = (
        "Run the marketplace simulator: a storefront per bundle that receives the pushed feed "
        "and orders through the API."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bundle",
            action="append",
            default=[],
            metavar="SLUG=FILE",
            help="a marketplace at /SLUG/ with the bundle in FILE (from `stemline channel bundle`)",
        )
        parser.add_argument("--api", default="http://127.0.0.1:8000", help="the platform's URL")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, **o):
        bundles = {}
        for spec in o["bundle"]:
            slug, _, path = spec.partition("=")
            if not slug or not path:
                raise CommandError(f"--bundle: expected SLUG=FILE, got {spec!r}")
            try:
                bundles[slug] = json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--bundle: cannot read {path}: {exc}") from exc
        simulator = Simulator(bundles, o["api"], o["host"], o["port"])
        self.stdout.write(f"Marketplace simulator on {simulator.url}/ ({', '.join(bundles)})")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        simulator.start()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        simulator.stop()
