"""The exceptions raised by :mod:`tinygan.datasets`.

Every problem with a data file -- a missing file, a truncated download, a
corrupted header -- surfaces as a :class:`DatasetError` whose message names
the file and says what is wrong, so that a user sees one readable line
instead of a NumPy or zlib traceback.
"""


class DatasetError(ValueError):
    """A data set could not be found, read or trusted.

    It subclasses :class:`ValueError` so that callers who already catch
    ``ValueError`` for bad input keep working.
    """


class DownloadError(DatasetError):
    """A download failed: network error, truncated body or checksum mismatch."""


class DestinationError(DownloadError):
    """The folder to download into cannot hold the files; found before anything is fetched."""
