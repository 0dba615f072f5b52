"""The user-facing error: a clear one-paragraph message, never a traceback."""


class TopicchatError(Exception):
    """Bad input or a broken index; the message says what is wrong and what to do."""
