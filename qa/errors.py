"""The errors qa raises, one class per kind a caller may want to tell apart.

Every one is a QAError whose message is the one line a user sees. The library says
what is wrong; what to do about it (`qa index --rebuild` …) is the interface's to add,
since a server or an agent tool offers other remedies than the CLI.
"""


class QAError(Exception):
    """An error a user can act on; the CLI prints it as one line and exits with code 2."""


class BadInputError(QAError):
    """A question, option, path or file given by the caller cannot be used as it is."""


class GoldenFileError(BadInputError):
    """A golden-query file or snapshot that cannot be read or is not valid."""


class NotFoundError(QAError):
    """A passage, document or collection the caller named is not in the index (`collection`:
    the collection that is not there, when that is what was not found)."""

    def __init__(self, message: str, collection: str | None = None):
        super().__init__(message)
        self.collection = collection


class CorpusConflictError(BadInputError):
    """A collection holds another corpus folder's index than the one being indexed into it."""

    def __init__(self, message: str, collection: str | None = None):
        super().__init__(message)
        self.collection = collection


class IndexMissingError(QAError):
    """There is no index where one was looked for (`collection`: the named collection asked for)."""

    def __init__(self, message: str, collection: str | None = None):
        super().__init__(message)
        self.collection = collection


class IndexDamagedError(QAError):
    """The index files are unreadable, truncated or out of step with each other."""


class IndexVersionError(QAError):
    """The index was written in an older or newer on-disk format than this qa reads."""


class IndexBusyError(QAError):
    """Another build holds the index's lock."""


class ModelMismatchError(QAError):
    """The index was built with another embedding model than the one asked for."""

    def __init__(self, message: str, built_with: str | None = None, asked_for: str | None = None):
        super().__init__(message)
        self.built_with = built_with
        self.asked_for = asked_for


class UnknownModelError(QAError):
    """A model or reranker spec that names nothing qa can load."""
