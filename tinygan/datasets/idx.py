"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a tiny header followed by the raw array, big-endian::

    byte 0-1   0x00 0x00                magic: always two zero bytes
    byte 2     type code                0x08 uint8, 0x09 int8, 0x0B int16,
                                        0x0C int32, 0x0D float32, 0x0E float64
    byte 3     ndim                     number of dimensions
    then       ndim x uint32            the size of each dimension
    then       prod(sizes) x itemsize   the elements, row-major (C order)

MNIST's ``train-images-idx3-ubyte`` therefore starts ``00 00 08 03`` then
60000, 28, 28. The files usually travel gzipped; :func:`read_idx` accepts
both and :func:`write_idx` writes gzip when the name ends in ``.gz``.

Reading is strict: every way a file can be wrong (truncated, bad magic,
unknown type, extra bytes, broken gzip) raises :class:`DatasetError` naming
the file, never a bare NumPy, gzip or zlib exception.
"""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from tinygan.datasets.errors import DatasetError
from tinygan.files import atomic_write

# IDX type code -> big-endian NumPy dtype (">" = most significant byte first).
TYPE_CODES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("="): code for code, dt in TYPE_CODES.items()}

GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data, name="<bytes>"):
    """Decode the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        Used in error messages, typically the file path.

    Returns
    -------
    numpy.ndarray
        A new, writable array in native byte order, shaped by the header.

    Raises
    ------
    DatasetError
        If the header is malformed or the length disagrees with it.
    """
    if len(data) < 4:
        raise DatasetError(f"{name}: truncated IDX file ({len(data)} bytes, "
                           "shorter than the 4-byte magic number)")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise DatasetError(f"{name}: bad IDX magic number {data[:4].hex()} "
                           "(must start with two zero bytes)")
    if code not in TYPE_CODES:
        raise DatasetError(f"{name}: unsupported IDX element type code 0x{code:02X} "
                           "(known: 08 uint8, 09 int8, 0B int16, 0C int32, "
                           "0D float32, 0E float64)")
    if ndim == 0:
        raise DatasetError(f"{name}: bad IDX header, zero dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetError(f"{name}: truncated IDX header ({len(data)} bytes, "
                           f"{header_len} needed for {ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = TYPE_CODES[code]
    # Python ints: the product of four uint32 sizes can overflow int64.
    count = 1
    for d in dims:
        count *= d
    expected = header_len + count * dtype.itemsize
    if len(data) < expected:
        raise DatasetError(f"{name}: truncated IDX file: header {tuple(dims)} "
                           f"{dtype.newbyteorder('=').name} promises {expected} "
                           f"bytes, file has {len(data)}")
    if len(data) > expected:
        raise DatasetError(f"{name}: {len(data) - expected} unexpected trailing "
                           f"bytes after the {expected} promised by the header "
                           f"{tuple(dims)}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header_len)
    try:
        array = array.reshape(dims)
    except ValueError:  # e.g. (0, 2**32-1, 2**32-1, 2**32-1): empty, yet too big a shape
        raise DatasetError(f"{name}: bad IDX header: dimensions {tuple(dims)} describe "
                           "no array NumPy can hold") from None
    # astype copies: the result is writable and in the machine's byte order.
    return array.astype(dtype.newbyteorder("="))


def _decompress(raw, name):
    """Gunzip ``raw``, turning every way gzip can fail into DatasetError."""
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile is an OSError; a cut-off stream raises EOFError.
        raise DatasetError(f"{name}: corrupt or truncated gzip data ({exc or type(exc).__name__})") from None


def read_idx(path):
    """Read an IDX file, gzipped or raw.

    A file whose name ends in ``.gz`` must be gzip; any other file is
    decompressed too if it starts with the gzip magic bytes (an IDX file
    never does: its first two bytes are zero).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    DatasetError
        If the file cannot be read or is not a valid IDX file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_idx_file(raw, str(path))


def decode_idx_file(raw, name):
    """What :func:`read_idx` does once it has the file's bytes (handy for tests).

    Parameters
    ----------
    raw : bytes
        The file's contents, gzipped or not.
    name : str
        The file name: if it ends in ``.gz``, ``raw`` must be gzip.
    """
    if name.endswith(".gz") and not raw.startswith(GZIP_MAGIC):
        raise DatasetError(f"{name}: named .gz but is not gzip data "
                           f"(starts with {raw[:4].hex() or 'nothing'})")
    if raw.startswith(GZIP_MAGIC):
        raw = _decompress(raw, name)
    return parse_idx(raw, name=name)


def encode_idx(array):
    """Encode ``array`` as the bytes of an uncompressed IDX file.

    Parameters
    ----------
    array : array_like
        Of dtype uint8, int8, int16, int32, float32 or float64, with
        at least one and at most 255 dimensions, each below 2**32.

    Returns
    -------
    bytes
    """
    array = np.asarray(array)
    code = _CODE_OF.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DatasetError(f"cannot write dtype {array.dtype} as IDX "
                           "(supported: uint8, int8, int16, int32, float32, float64)")
    if not 1 <= array.ndim <= 255:
        raise DatasetError(f"cannot write a {array.ndim}-d array as IDX (1 to 255 dimensions)")
    if any(d >= 2**32 for d in array.shape):
        raise DatasetError(f"cannot write shape {array.shape} as IDX (sizes must fit in uint32)")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()


def write_idx(path, array, *, compress=None):
    """Write ``array`` to ``path`` as an IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
    array : array_like
        See :func:`encode_idx` for the supported dtypes.
    compress : bool, optional
        Gzip the file. Defaults to whether ``path`` ends in ``.gz``.
        The gzip header carries no file name and mtime 0, so the same
        array always gives the same bytes (with the same zlib).
    """
    path = Path(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with atomic_write(path) as f:   # readers see the old file or the new one, never half
        f.write(data)
