"""Errors a user can act on, and the exit codes they map to.

Every failure that reaches the command line is one of these: `cli.main` prints its message as one
line on stderr and exits with its code. Anything else is a bug: a traceback only with --debug.
"""

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the work finished but found problems: failed resources, corrupt blobs
EXIT_USAGE = 2  # usage, configuration, login or environment error
EXIT_INTERRUPTED = 130  # Ctrl-C; the run is recorded as interrupted
EXIT_PIPE_CLOSED = 141  # the reader of stdout went away (`| head`), as a shell reports SIGPIPE


class PelodumpError(Exception):
    """A failure with a one-line message meant for the user."""

    exit_code = EXIT_USAGE


class ArchiveError(PelodumpError):
    """The archive cannot be used: wrong format version, locked by another writer, disk full."""


class LoginError(PelodumpError):
    """Logging in or refreshing a token failed; the message says why, never with a secret."""
