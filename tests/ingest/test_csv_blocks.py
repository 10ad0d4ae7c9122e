"""CSV byte ranges begin at records: read range by range, a file gives exactly the rows
pandas reads from the whole file, for every block size, quoted line breaks included."""

from __future__ import annotations

from pathlib import Path

import dask
import pandas as pd
import pytest

from geogrid.ingest.csv_blocks import header_columns, read_range, record_ranges

SPREADSHEET = (
    "\ufeffid,address,note\r\n"  # a BOM and CRLF, as a spreadsheet writes them
    '1,"平阳县鳌江镇甲村\r\n工业路2号","二楼, 东"\r\n'
    '2,昆阳镇丙村工业路4号,"他说""到了"""\r\n'
    "\r\n"
    '3,"乙村\n\n工业路6号",\r\n'
    '4,"""引号""开头",x\r\n'
    "5,丁村,\r\n"
    '6,"结尾换行\r\n",y\r\n'
)
STRAY = 'id,address\n1,5号"楼\n2,"甲村\n工业路"\n3,乙村\n'  # a quote pandas reads literally
PAIRED = 'id,address\n1,5号"楼\n2,3"号\n3,乙村\n4,丁村\n'  # two stray quotes, no quoted field


def _whole(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _by_ranges(path: Path, blocksize: int) -> pd.DataFrame:
    with dask.config.set(scheduler="synchronous"):
        ranges = record_ranges(str(path), blocksize)
    columns = header_columns(str(path))
    parts = [read_range(r, columns) for r in ranges]
    assert [r.start for r in ranges[1:]] == [r.end for r in ranges[:-1]]  # no gap, no overlap
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    "text", [SPREADSHEET, STRAY, PAIRED], ids=["spreadsheet", "stray-quote", "paired-stray-quotes"]
)
def test_every_block_size_reads_what_pandas_reads_from_the_whole_file(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = _whole(path)
    assert len(expected) >= 3
    for blocksize in range(1, len(path.read_bytes()) + 2):
        got = _by_ranges(path, blocksize)
        pd.testing.assert_frame_equal(
            got, expected, check_dtype=False, obj=f"blocksize {blocksize}"
        )


def test_a_spreadsheet_file_is_split_in_several_ranges_at_records(tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_bytes(SPREADSHEET.encode("utf-8"))
    with dask.config.set(scheduler="synchronous"):
        ranges = record_ranges(str(path), 16)
    assert len(ranges) >= 4
    data = path.read_bytes()
    for part in ranges[1:]:  # each starts right after a line break outside quotes
        assert data[part.start - 1 : part.start] == b"\n"
        assert data[: part.start].count(b'"') % 2 == 0


def test_a_compressed_file_is_one_range(tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv.gz"
    frame = pd.DataFrame({"id": ["1", "2"], "address": ["甲村\n工业路", "乙村"]})
    frame.to_csv(path, index=False, compression="gzip")
    with dask.config.set(scheduler="synchronous"):
        ranges = record_ranges(str(path), 1)
    assert len(ranges) == 1
    got = read_range(ranges[0], header_columns(str(path)))
    pd.testing.assert_frame_equal(got, frame)
