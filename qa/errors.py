class QAError(Exception):
    """An error a user can act on; the CLI prints it as one line and exits with code 2."""
