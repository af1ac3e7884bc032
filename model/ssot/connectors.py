"""Connectors: a source file (CSV, Parquet, JSON lines; plain, .gz or .zip) as a DuckDB table expression.

The file is checked before DuckDB reads it — the format its name claims must match its bytes (a Parquet
file named ``.csv`` or garbage named ``.gz`` is refused with a message saying what it looks like), it
must not be empty, and a text file must decode in its declared encoding. CSV and JSON lines are read as
text (every column ``VARCHAR``) so that a bad value becomes a quarantined row, not a failed file; the
CSV reader runs in strict mode with the dialect given (not sniffed), so a truncated or garbled file
(wrong number of fields, an unterminated quote) is refused with its line number. Parquet keeps its own
types. ``row_number() OVER ()`` over the reader (insertion order preserved) is the 1-based data row
(header excluded).
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from model.ssot.mapping import CsvOptions, IngestError, Mapping

EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
              ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
GZIP_MAGIC, ZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PK\x03\x04", b"PAR1"
HEAD_BYTES = 1 << 16  # enough for the header line of a wide export


@dataclass(frozen=True)
class Source:
    """A readable source: the DuckDB table expression that reads it, its column names in order, and
    the names of its text (VARCHAR) columns."""

    read_sql: str
    columns: tuple[str, ...]
    format: str
    text_columns: frozenset[str] = frozenset()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def detect_format(path: Path, mapping: Mapping) -> tuple[str, str]:
    """(format, compression) from the name: ``sales.csv.gz`` → ('csv', 'gzip'); the mapping's
    ``format`` overrides the extension."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = {".gz": "gzip", ".zip": "zip"}.get(suffixes[-1] if suffixes else "", "none")
    inner = suffixes[-2] if compression != "none" and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    fmt = mapping.format or EXTENSIONS.get(inner)
    if fmt is None:
        raise IngestError(f"{path}: cannot tell the format from the name; expected .csv/.parquet/.jsonl "
                          f"(optionally .gz or .zip), or set 'format' in the mapping")
    return fmt, compression


def _looks_like(head: bytes) -> str | None:
    if head.startswith(PARQUET_MAGIC):
        return "Parquet"
    if head.startswith(GZIP_MAGIC):
        return "gzip-compressed"
    if head.startswith(ZIP_MAGIC):
        return "a zip archive"
    if b"\x00" in head:
        return "binary"
    return None


def _check_head(path: Path, head: bytes, fmt: str, encoding: str) -> None:
    """Refuse content that is not the claimed format (checked on the first, decompressed, bytes)."""
    if not head.strip():
        raise IngestError(f"{path}: empty file: no header and no data rows")
    if fmt == "parquet":
        if not head.startswith(PARQUET_MAGIC):
            raise IngestError(f"{path}: not a Parquet file (no 'PAR1' magic bytes); "
                              f"it looks like {_looks_like(head) or 'text'}")
        return
    seen = _looks_like(head)
    if seen and not (seen == "binary" and encoding == "utf-16"):
        raise IngestError(f"{path}: named as {fmt.upper()} text but the content is {seen}; "
                          f"rename it to its real format or fix the export")
    if fmt == "jsonl" and not head.lstrip().startswith(b"{"):
        raise IngestError(f"{path}: not JSON lines: the first line must be a JSON object '{{...}}'")


def _read_head(path: Path, compression: str) -> bytes:
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: empty file (0 bytes)")
    with open(path, "rb") as f:
        raw = f.read(HEAD_BYTES)
    if compression != "gzip":
        return raw
    if not raw.startswith(GZIP_MAGIC):
        raise IngestError(f"{path}: named .gz but not gzip-compressed (it looks like {_looks_like(raw) or 'text'})")
    try:
        with gzip.open(path, "rb") as g:
            return g.read(HEAD_BYTES)
    except (OSError, EOFError) as e:
        raise IngestError(f"{path}: corrupt gzip stream: {e}") from None


@contextlib.contextmanager
def _unzipped(path: Path) -> Iterator[Path]:
    """Extract the single data member of a .zip into a temporary folder (removed afterwards)."""
    if not zipfile.is_zipfile(path):
        raise IngestError(f"{path}: named .zip but not a zip archive")
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        if len(members) != 1:
            raise IngestError(f"{path}: a .zip must hold exactly one data file, found {len(members)}: "
                              f"{', '.join(m.filename for m in members[:5])}")
        with tempfile.TemporaryDirectory(prefix="scaleplan-unzip-") as tmp:
            out = Path(tmp) / Path(members[0].filename).name
            try:
                with z.open(members[0]) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise IngestError(f"{path}: corrupt zip archive: {e}") from None
            yield out


def _csv_header(path: Path, head: bytes, opts: CsvOptions) -> tuple[str, ...]:
    """Column names from the header line (read by Python's csv module with the declared dialect)."""
    try:
        if opts.encoding == "utf-16":  # bytes cannot be split into lines before decoding
            lines = codecs.getincrementaldecoder("utf-16")().decode(head).splitlines()
            text = "\n".join(lines[opts.skip:opts.skip + 1])
        else:
            encoding = {"utf-8": "utf-8-sig"}.get(opts.encoding, opts.encoding)
            text = b"".join(head.splitlines(keepends=True)[opts.skip:opts.skip + 1]).decode(encoding)
    except UnicodeDecodeError as e:
        raise IngestError(f"{path}: line {opts.skip + 1}: not valid {opts.encoding} text ({e.reason} at byte "
                          f"{e.start}); declare the encoding in the mapping (csv: {{encoding: latin-1}})") from None
    row = next(csv.reader(io.StringIO(text), delimiter=opts.delimiter, quotechar=opts.quote), [])
    if not opts.header:
        return tuple(f"column{i}" for i in range(len(row)))
    names = tuple(c.strip() for c in row)
    if not names or any(n == "" for n in names):
        raise IngestError(f"{path}: line {opts.skip + 1}: header has an empty column name: {list(names)}")
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise IngestError(f"{path}: line {opts.skip + 1}: duplicate column name(s) in the header: {', '.join(dups)}")
    return names


def _csv_source(path: Path, head: bytes, opts: CsvOptions, compression: str) -> Source:
    names = _csv_header(path, head, opts)
    cols = ", ".join(f"{quote_str(n)}: 'VARCHAR'" for n in names)
    sql = (f"read_csv({quote_str(str(path))}, columns={{{cols}}}, header={str(opts.header).lower()}, "
           f"delim={quote_str(opts.delimiter)}, quote={quote_str(opts.quote)}, escape={quote_str(opts.escape)}, "
           f"encoding={quote_str(opts.encoding)}, skip={int(opts.skip)}, compression='{compression}', "
           f"strict_mode=true, auto_detect=false, null_padding=false)")
    return Source(sql, names, "csv", frozenset(names))


def _describe(con: duckdb.DuckDBPyConnection, path: Path, sql: str, fmt: str) -> list[tuple[str, str]]:
    try:
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()]
    except duckdb.Error as e:
        raise IngestError(f"{path}: cannot read as {fmt}: {short_error(e)}") from None


def _jsonl_source(con, path: Path, compression: str) -> Source:
    # every line is sampled so that a key first seen late is an extra column, not silently dropped
    probe = (f"read_json({quote_str(str(path))}, format='newline_delimited', compression='{compression}', "
             f"sample_size=-1)")
    names = tuple(n for n, _ in _describe(con, path, probe, "JSON lines"))
    cols = ", ".join(f"{quote_str(n)}: 'VARCHAR'" for n in names)
    sql = (f"read_json({quote_str(str(path))}, format='newline_delimited', records=true, "
           f"compression='{compression}', columns={{{cols}}})")
    return Source(sql, names, "jsonl", frozenset(names))


def _parquet_source(con, path: Path) -> Source:
    sql = f"read_parquet({quote_str(str(path))})"
    cols = _describe(con, path, sql, "Parquet")
    return Source(sql, tuple(n for n, _ in cols), "parquet", frozenset(n for n, t in cols if t == "VARCHAR"))


@contextlib.contextmanager
def open_source(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> Iterator[Source]:
    """Check ``path`` and yield the :class:`Source` that reads it (a .zip is extracted for the duration)."""
    if not path.is_file():
        raise IngestError(f"{path}: file not found")
    fmt, compression = detect_format(path, mapping)
    if compression == "zip":
        with _unzipped(path) as inner:
            with open_source(con, inner, Mapping(origin=mapping.origin, format=fmt, csv=mapping.csv)) as src:
                yield src
        return
    if fmt == "parquet" and compression == "gzip":
        raise IngestError(f"{path}: Parquet is compressed internally; gzip around it is not supported")
    head = _read_head(path, compression)
    _check_head(path, head, fmt, mapping.csv.encoding)
    if fmt == "csv":
        yield _csv_source(path, head, mapping.csv, compression)
    elif fmt == "jsonl":
        yield _jsonl_source(con, path, compression)
    else:
        yield _parquet_source(con, path)


def short_error(e: Exception) -> str:
    """DuckDB's message without its 'Possible fixes' advice and reader settings dump."""
    lines = []
    for line in str(e).splitlines():
        if line.strip().lower().startswith(("possible", "* ", "file =", "  file =")) or "(Set By User)" in line:
            break
        if line.strip():
            lines.append(line.strip())
    return "; ".join(lines)[:500]

