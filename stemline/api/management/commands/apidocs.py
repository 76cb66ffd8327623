"""`stemline apidocs [--check]`: write docs/api.md from the method registry, or check it."""

import difflib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stemline.api.docs import default_path, render


class Command(BaseCommand):
    help = "Write docs/api.md from the method registry (--check: fail when it is stale)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit non-zero when the file differs from the registry.",
        )
        parser.add_argument("--output", type=Path, default=None, help="Default: docs/api.md.")

    def handle(self, *args, check: bool = False, output: Path | None = None, **options):
        path = output or default_path()
        expected = render()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current == expected:
                self.stdout.write(f"{path} is up to date.")
                return
            if current is None:
                raise CommandError(f"{path} does not exist: run `stemline apidocs`.")
            diff = difflib.unified_diff(
                current.splitlines(),
                expected.splitlines(),
                fromfile=f"{path} (on disk)",
                tofile=f"{path} (from the registry)",
                lineterm="",
            )
            shown = list(diff)
            for line in shown[:40]:
                self.stderr.write(line)
            if len(shown) > 40:
                self.stderr.write(f"... {len(shown) - 40} more diff lines")
            raise CommandError(f"{path} is stale: run `stemline apidocs`.")
        if current == expected:
            self.stdout.write(f"{path} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
