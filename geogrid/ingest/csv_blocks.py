"""Split a large CSV file into byte ranges that each begin at a record, quotes respected.

Splitting a CSV at the first line break after every *n* bytes (what ``dask.dataframe
.read_csv`` does) cuts a record in two when a quoted field holds a line break, as an
address cell exported from a spreadsheet often does::

    id,address
    1,"鳌江镇甲村
    工业路2号"

Under RFC 4180 a quote character appears only around a field or doubled inside one, so
a line break is inside a quoted field exactly when an odd number of quotes precedes it
in the file. :func:`record_ranges` uses that: a first pass counts the quotes of each
block (blocks are independent, so the counting runs in parallel on Dask's workers), and
a second one moves each block's start forward to the first line break with an even
number of quotes before it. Each range is then parsed by pandas on its own, with the
header's column names.

A file with an odd number of quotes in all is not RFC 4180 (a stray quote, as in
``5号"楼``, which pandas reads literally): it is read as one range, exactly as pandas
reads the whole file. Compressed files cannot be entered in the middle, so they are one
range too.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ByteRange",
    "header_columns",
    "quote_counts",
    "read_range",
    "record_ranges",
    "record_start_after",
]

QUOTE = b'"'
NEWLINE = b"\n"
_SCAN = 1 << 16  # bytes read at a time while looking for a record start


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of ``path``: whole records; the first range holds the header."""

    path: str
    start: int
    end: int
    header: bool


def _open(path: str, compression: str | None = None) -> io.BufferedIOBase:
    import fsspec

    return fsspec.open(path, "rb", compression=compression).open()  # type: ignore[no-any-return]


def _size(path: str) -> int:
    import fsspec

    fs, local = fsspec.core.url_to_fs(path)
    return int(fs.size(local))


def quote_counts(path: str, start: int, end: int) -> int:
    """Return the number of quote characters in bytes ``[start, end)`` of ``path``."""
    with _open(path) as file:
        file.seek(start)
        count, left = 0, end - start
        while left > 0:
            chunk = file.read(min(left, 1 << 22))
            if not chunk:
                break
            count += chunk.count(QUOTE)
            left -= len(chunk)
        return count


def record_start_after(path: str, offset: int, quotes_before: int, size: int) -> int:
    """Return the offset of the first record that starts at or after ``offset``: just
    past the first line break at or after it with an even number of quotes before it
    (``quotes_before`` quotes precede ``offset``); ``size`` when none does.

    >>> import tempfile, pathlib
    >>> data = b'id,a\\n1,"x\\ny"\\n2,z\\n'
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_bytes(data)
    >>> record_start_after(str(path), 8, 1, len(data))  # inside the quoted "x\\ny"
    13
    """
    parity = quotes_before % 2
    with _open(path) as file:
        file.seek(offset)
        position = offset
        while True:
            chunk = file.read(_SCAN)
            if not chunk:
                return size
            index = 0
            while True:
                newline = chunk.find(NEWLINE, index)
                end = len(chunk) if newline < 0 else newline
                parity = (parity + chunk.count(QUOTE, index, end)) % 2
                if newline < 0:
                    break
                if parity == 0:
                    return position + newline + 1
                index = newline + 1
            position += len(chunk)


def record_ranges(path: str, blocksize: int) -> list[ByteRange]:
    """Return byte ranges of about ``blocksize`` bytes covering ``path``, each made of
    whole records (see the module's text). The passes over the file run as Dask tasks,
    on the active client's workers when there is one.

    >>> import tempfile, pathlib
    >>> data = b'id,a\\n1,"x\\ny"\\n2,z\\n'
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_bytes(data)
    >>> [(r.start, r.end) for r in record_ranges(str(path), 6)]
    [(0, 13), (13, 17)]
    """
    from dask import compute, delayed
    from fsspec.utils import infer_compression

    size = _size(path)
    if infer_compression(path) is not None or size <= blocksize:
        return [ByteRange(path, 0, size, header=True)]
    cuts = list(range(blocksize, size, blocksize))
    edges = [0, *cuts, size]
    counts: Sequence[int] = compute(
        *(delayed(quote_counts)(path, a, b) for a, b in pairwise(edges))
    )
    if sum(counts) % 2:  # not RFC 4180: pandas' own reading of the whole file decides
        return [ByteRange(path, 0, size, header=True)]
    before = [sum(counts[:i]) for i in range(1, len(counts))]
    starts: Sequence[int] = compute(
        *(
            delayed(record_start_after)(path, cut, quotes, size)
            for cut, quotes in zip(cuts, before, strict=True)
        )
    )
    # the header is a record too: no range may start before the first data record
    first = record_start_after(path, 0, 0, size)
    bounds = sorted({0, *(s for s in starts if s > first), size})
    return [ByteRange(path, a, b, header=(a == 0)) for a, b in pairwise(bounds)]


def header_columns(path: str) -> list[str]:
    """Return the column names of the CSV file ``path`` (its first record)."""
    import pandas as pd

    with _open(path, compression="infer") as file:
        frame = pd.read_csv(file, dtype=str, nrows=0, encoding="utf-8-sig")
    return [str(c) for c in frame.columns]


def read_range(part: ByteRange, names: Sequence[str]) -> pd.DataFrame:
    """Parse one range as text columns, named by the file's header ``names``."""
    import pandas as pd

    options = {"dtype": str, "keep_default_na": False}
    if part.start == 0 and part.end == _size(part.path):  # the whole file: maybe compressed
        with _open(part.path, compression="infer") as file:
            return pd.read_csv(file, encoding="utf-8-sig", **options)  # type: ignore[call-overload, no-any-return]
    with _open(part.path) as file:
        file.seek(part.start)
        data = file.read(part.end - part.start)
    if part.header:
        return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", **options)  # type: ignore[call-overload, no-any-return]
    if not data.strip():
        return pd.DataFrame(columns=list(names), dtype=object)
    return pd.read_csv(  # type: ignore[call-overload, no-any-return]
        io.BytesIO(data), header=None, names=list(names), encoding="utf-8", **options
    )
