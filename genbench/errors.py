"""The one exception type the CLI turns into a readable message instead of a traceback."""


class GenbenchError(Exception):
    """A problem the user can fix: bad input, a missing file, an unknown name.

    The message must say what is wrong and, where possible, what to do about it.
    Metric functions raise ``ValueError`` for bad arguments (as numpy/scipy do); the CLI
    reports both the same way.
    """
