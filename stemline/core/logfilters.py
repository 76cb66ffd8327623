"""Logging filters of the project's log configuration."""

import logging

from django.core.exceptions import PermissionDenied


class RefusalsWithoutTraceback(logging.Filter):
    """A 403 is an answer, not a fault: Django logs "Forbidden (Permission denied)" with the
    exception's traceback, which buries real errors. Keep the line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
