"""Rows of an import file, CSV or JSONL, each with its line number and original text.

The original text goes to the rejected-rows file unchanged, so a person can fix it
there and import that file again. Bytes that are not UTF-8 are carried through
(surrogateescape) to that file and the row is rejected, instead of stopping the
import at the first bad byte.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import msgspec

FORMATS = {".csv": "csv", ".jsonl": "jsonl"}
ENCODING = {"encoding": "utf-8", "errors": "surrogateescape", "newline": ""}


class SourceError(ValueError):
    """The file as a whole cannot be imported (unknown format, bad CSV header)."""


@dataclass
class Row:
    """One input row: its first line, its original text, and its fields or why they are unreadable."""

    line: int
    text: str
    fields: dict | None
    error: str | None = None


def file_format(path: Path) -> str:
    """'csv' or 'jsonl' by the file's extension; raises SourceError otherwise."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SourceError(f"{path}: expected a .csv or .jsonl file")
    return fmt


# surrogateescape turns each undecodable byte into a lone surrogate.
_SURROGATE = re.compile("[\udc80-\udcff]")


def _undecodable(text: str) -> bool:
    return _SURROGATE.search(text) is not None


class Reader:
    """Iterates a file's rows; `consumed` counts characters read (for a progress bar)."""

    def __init__(self, stream: TextIO, fmt: str, columns: tuple[str, ...]) -> None:
        self._stream = stream
        self._fmt = fmt
        self._columns = columns
        self.consumed = 0
        self.header = ""  # the CSV header line, repeated at the top of the rejected file

    def _lines(self, buffer: list[str]) -> Iterator[str]:
        for line in self._stream:
            self.consumed += len(line)
            buffer.append(line)
            yield line

    def rows(self) -> Iterator[Row]:
        """Every non-blank row, in file order."""
        return self._csv() if self._fmt == "csv" else self._jsonl()

    def _jsonl(self) -> Iterator[Row]:
        for n, line in enumerate(self._lines([]), start=1):
            if not line.strip():
                continue
            if _undecodable(line):
                yield Row(n, line, None, "not valid UTF-8")
                continue
            try:
                fields = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                yield Row(n, line, None, str(exc))
                continue
            if not isinstance(fields, dict):
                yield Row(n, line, None, "not a JSON object")
                continue
            unknown = sorted(set(fields) - set(self._columns))
            if unknown:
                yield Row(n, line, None, f"unknown field {unknown[0]!r}")
                continue
            yield Row(n, line, fields)

    def _csv(self) -> Iterator[Row]:
        buffer: list[str] = []
        reader = csv.reader(self._lines(buffer))
        header = self._header(reader)
        self.header = "".join(buffer)
        buffer.clear()
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Row(start, "".join(buffer), None, f"malformed CSV: {exc}")
                buffer.clear()
                continue
            text = "".join(buffer)
            buffer.clear()
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # a blank line
            if _undecodable(text):
                yield Row(start, text, None, "not valid UTF-8")
            elif len(values) != len(header):
                yield Row(start, text, None, f"expected {len(header)} columns, got {len(values)}")
            else:
                yield Row(start, text, dict(zip(header, values, strict=True)))

    def _header(self, reader) -> list[str]:
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return []
        except csv.Error as exc:
            raise SourceError(f"line 1: unreadable CSV header: {exc}") from None
        if header and header[0].startswith("\ufeff"):  # a byte-order mark (spreadsheets)
            header[0] = header[0][1:]
        unknown = [h for h in header if h not in self._columns]
        if unknown:
            raise SourceError(
                f"line 1: unknown column {unknown[0]!r} (expected some of: {', '.join(self._columns)})"
            )
        if len(set(header)) != len(header):
            raise SourceError("line 1: a column is named twice")
        return header


def rejected_path(path: Path) -> Path:
    """Where the rejected rows of `path` go: stores.csv -> stores.rejected.csv."""
    return path.with_name(f"{path.stem}.rejected{path.suffix}")
