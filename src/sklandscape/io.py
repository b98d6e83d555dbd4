"""Files: Parquet tables with key-value metadata, skops model files, users' data files.

The only module that knows file formats. Every write goes to a temporary file in
the same directory and is renamed into place, so a crash never leaves half a file.
Nothing here unpickles: tables are Parquet or CSV, models are skops files loaded with
an explicit list of trusted types.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sklandscape.errors import DataFileError, UntrustedModelError
from sklandscape.provenance import JOB_PROVENANCE, canonical_json

# Row groups bound the memory a reader needs and let a writer stream a large grid.
ROW_GROUP_SIZE = 1 << 20
# Landscape tables: fixed row groups from the first row, so the same rows make the
# same file however they were produced (one job, or tiles gathered).
LANDSCAPE_ROW_GROUP = 1 << 16


@contextmanager
def atomic_path(path, keep_suffix: bool = False):
    """Yield a temporary path beside `path`; move it onto `path` only on success.

    keep_suffix: the temporary name ends like `path` (e.g. `.gif`), for writers that
    choose the format from the file name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp{path.suffix}" if keep_suffix else ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        # mkstemp makes the file private (0600); give the result the usual umask-based mode.
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path):
    """Yield a temporary folder beside `path`; it becomes `path` (replacing what was there)
    only on success, so that a folder of figures is whole or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_temporaries(folder) -> list[Path]:
    """Delete what atomic_path leaves when its process is killed mid-write (`.{name}.*.tmp`
    and `.{name}.*.tmp.{ext}` beside the file), under `folder`. Only to be called while no job
    writes there (Snakemake's onstart, before the first job). Returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.rglob(".*.tmp*"):
        if path.is_dir() and path.name.endswith(".tmp"):  # atomic_folder's
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif path.is_file() and (path.name.endswith(".tmp") or ".tmp." in path.name):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def remove_damaged_tables(folder, dry_run: bool = False) -> list[tuple[Path, str]]:
    """Delete every Parquet table under `folder` that damaged_parquet finds damaged (a table
    cut short looks finished to Snakemake), so that the run rebuilds it; with dry_run, only
    find them. Returns (table, why) for each."""
    folder = Path(folder)
    found = []
    for table in sorted(folder.rglob("*.parquet")) if folder.is_dir() else ():
        why = damaged_parquet(table)
        if why:
            if not dry_run:
                table.unlink()
            found.append((table, why))
    return found


@functools.cache
def _umask() -> int:
    # Read once: setting and restoring the umask is not atomic.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _schema_metadata(metadata: dict[str, Any]) -> dict[bytes, bytes]:
    return {str(k).encode(): canonical_json(v).encode() for k, v in metadata.items()}


def _footer(metadata: dict[str, Any], schema: pa.Schema) -> dict[bytes, bytes]:
    """Every key-value entry of the file, sorted: ours (each JSON under its own key), the same
    dict as pandas' df.attrs (PANDAS_ATTRS), and pandas' own column metadata.

    The writers do not store the Arrow schema (store_schema=False): pyarrow then builds a
    reader's schema from these entries, so pq.read_table(path).schema.metadata and
    pd.read_parquet(path).attrs show the metadata, though it is only known when the last row
    is written. With a stored schema they would show only what was known at the first row.
    """
    if JOB_PROVENANCE.get():
        metadata = {**metadata, "provenance": JOB_PROVENANCE.get()}
    entries = _schema_metadata(metadata)
    entries[b"PANDAS_ATTRS"] = canonical_json(metadata).encode()
    pandas = (schema.metadata or {}).get(b"pandas")
    if pandas is not None:
        entries[b"pandas"] = pandas
    return dict(sorted(entries.items()))


def write_table(frame: pd.DataFrame, path, metadata: dict[str, Any] | None = None) -> None:
    """Parquet with each metadata entry JSON-encoded under its own key."""
    write_table_chunks([frame], path, metadata)


def write_table_chunks(
    chunks: Iterable[pd.DataFrame], path, metadata: dict[str, Any] | None = None
) -> None:
    """Stream frames of one schema into a Parquet file, one or more row groups each.

    The key-value metadata is written with the footer, so it may be a dict that the
    caller fills while the chunks are produced (e.g. counts known only at the end).
    """
    metadata = {} if metadata is None else metadata
    with atomic_path(path) as tmp:
        writer = None
        try:
            for chunk in chunks:
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, store_schema=False,
                                              write_page_checksum=True)
                writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
            if writer is None:
                raise ValueError(f"no rows to write to {path}")
            writer.add_key_value_metadata(_footer(metadata, writer.schema))
        finally:
            if writer is not None:
                writer.close()


def write_columns(
    chunks: Iterable[dict[str, Any]], path, columns: list[str], metadata: dict[str, Any] | None = None,
    row_group: int = LANDSCAPE_ROW_GROUP,
) -> int:
    """Stream float64 columns (dicts of equal-length arrays, in order) into a Parquet file.

    Row groups hold exactly `row_group` rows (the last one fewer), whatever the chunk
    sizes, so the file depends only on the rows and the metadata. The metadata dict is
    written with the footer and may be filled while the chunks are produced. Returns
    the number of rows.
    """
    schema = pa.schema([(name, pa.float64()) for name in columns])
    pending, n_pending, n_rows = [], 0, 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema, store_schema=False, write_page_checksum=True) as writer:

            def flush(n):
                # Exactly n rows, made contiguous: the pages then do not depend on the chunks.
                nonlocal n_pending
                taken, count = [], 0
                while count < n:
                    batch = pending.pop(0)
                    if count + batch.num_rows > n:
                        pending.insert(0, batch.slice(n - count))
                        batch = batch.slice(0, n - count)
                    taken.append(batch)
                    count += batch.num_rows
                table = pa.Table.from_batches(taken, schema).combine_chunks()
                writer.write_table(table, row_group_size=row_group)
                n_pending -= n

            for chunk in chunks:
                missing = [name for name in columns if name not in chunk]
                if missing:
                    raise ValueError(f"{path}: chunk lacks column(s) {missing}")
                batch = pa.record_batch([pa.array(chunk[name], pa.float64()) for name in columns],
                                        schema=schema)
                pending.append(batch)
                n_pending += batch.num_rows
                n_rows += batch.num_rows
                while n_pending >= row_group:
                    flush(row_group)
            if n_pending:
                flush(n_pending)
            # One call, keys sorted: the footer then does not depend on how the dict was built.
            writer.add_key_value_metadata(_footer(metadata or {}, schema))
    return n_rows


def iter_columns(path, columns: list[str] | None = None, batch_rows: int = LANDSCAPE_ROW_GROUP):
    """Yield a Parquet file's rows as dicts of numpy arrays, a bounded batch at a time."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    for batch in _batches(path, batch_rows, columns):
        yield {name: batch.column(name).to_numpy() for name in batch.schema.names}


def column_argmins(path, columns: list[str]) -> dict[str, int]:
    """The row of each column's smallest finite value (-1 if none), read a batch at a time."""
    best = {c: (np.inf, -1) for c in columns}
    start = 0
    for batch in _batches(path, LANDSCAPE_ROW_GROUP, columns):
        for column in columns:
            values = batch.column(column).to_numpy(zero_copy_only=False)
            finite = np.where(np.isfinite(values), values, np.inf)
            k = int(np.argmin(finite))
            if finite[k] < best[column][0]:
                best[column] = (float(finite[k]), start + k)
        start += batch.num_rows
    return {c: row for c, (_, row) in best.items()}


def read_grid_subset(path, shape: tuple[int, int], first, second) -> pd.DataFrame:
    """The rows of a row-major grid table (first axis slow) at grid indices first x second,
    streamed: memory grows with the subset, not with the file."""
    keep_first = np.zeros(shape[0], dtype=bool)
    keep_first[np.asarray(first, dtype=np.int64)] = True
    keep_second = np.zeros(shape[1], dtype=bool)
    keep_second[np.asarray(second, dtype=np.int64)] = True
    parts, start = [], 0
    for batch in _batches(path, LANDSCAPE_ROW_GROUP):
        i, j = np.divmod(np.arange(start, start + batch.num_rows), shape[1])
        selected = keep_first[i] & keep_second[j]
        if selected.any():
            parts.append(batch.filter(pa.array(selected)))
        start += batch.num_rows
    with _readable(path):
        schema = pq.ParquetFile(path).schema_arrow
    return pa.Table.from_batches(parts, schema).to_pandas()


def column_names(path) -> list[str]:
    with _readable(path):
        return pq.ParquetFile(path).schema_arrow.names


def _batches(path, batch_rows: int, columns: list[str] | None = None):
    """A Parquet file's record batches, its pages checked against their checksums as they are
    read (our writers store them): damage anywhere in the file, found on opening it or in the
    middle of the stream, fails with the file's name (DataFileError), not as numbers."""
    with _readable(path):
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
        yield from parquet.iter_batches(batch_size=batch_rows, columns=columns)


PARQUET_MAGIC = b"PAR1"


def damaged_parquet(path) -> str | None:
    """Why a Parquet file is damaged, from its first and last bytes alone (a file cut short
    loses its footer), or None. Cheap enough to run on every table at every start."""
    size = os.path.getsize(path)
    if size < 12:
        return f"{size} bytes: too short for a Parquet file"
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(-8, os.SEEK_END)
        tail = handle.read(8)
    if head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC:
        return "cut short or overwritten: no Parquet header or footer"
    if int.from_bytes(tail[:4], "little") + 12 > size:
        return "cut short: its footer claims more bytes than the file has"
    return None


@contextmanager
def _readable(path):
    """A damaged Parquet file's error names the file and says what to do: pyarrow's alone
    ("Couldn't deserialize thrift", "Parquet magic bytes not found") does not."""
    try:
        yield
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError, UnicodeDecodeError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        damaged = DataFileError(
            f"{path}: not a readable Parquet file ({error}); it is damaged or was cut short. "
            f"Delete it and run again: the pipeline rebuilds it and what depends on it"
        )
        damaged.damaged_file = Path(path)  # for the pipeline, which deletes its own outputs
        raise damaged from error


def read_metadata(path) -> dict[str, Any]:
    # File-level key-value metadata: what the writer's footer holds, ours and pyarrow's.
    out = {}
    with _readable(path):
        raw = pq.read_metadata(path).metadata or {}
        for key, value in raw.items():
            key = key.decode()
            if key in ("pandas", "ARROW:schema", "PANDAS_ATTRS"):
                continue
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value.decode()
    return out


def read_table(path, columns: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with _readable(path):
        frame = pd.read_parquet(path, columns=columns, page_checksum_verification=True)
    return frame, read_metadata(path)


# --- users' data files -----------------------------------------------------------

USER_DATA_FORMATS = {".csv": "CSV", ".parquet": "Parquet"}


def read_user_table(path) -> pd.DataFrame:
    """A user's CSV or Parquet file as read, or a DataFileError saying why it can't be."""
    path = Path(path)
    kind = USER_DATA_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataFileError(
            f"{path}: unsupported file type {path.suffix!r}; use one of {sorted(USER_DATA_FORMATS)}"
        )
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative paths are read from {Path.cwd()})"
        raise DataFileError(f"{path}: no such file{where}")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty")
    try:
        if kind == "CSV":
            # Blank lines are kept (as empty rows) so that row numbers match the file's lines;
            # only an empty cell is missing: "NA" or "null" is text, reported as it was seen.
            frame = pd.read_csv(path, skip_blank_lines=False, keep_default_na=False,
                                na_values=[""])
            names = _csv_header(path)  # pandas renames a repeated column ("x.1")
            # Blank lines at the end (an editor's or a spreadsheet's habit) are no rows.
            blank = frame.isna().all(axis=1).to_numpy()
            end = len(frame)
            while end and blank[end - 1]:
                end -= 1
            frame = frame.iloc[:end]
        else:
            frame = pd.read_parquet(path)
            names = [str(c) for c in pq.read_schema(path).names if c != "__index_level_0__"]
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty (no header, no rows)") from None
    except (pd.errors.ParserError, pa.ArrowException, OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"{path}: not a readable {kind} file ({error})") from None
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        where = ", ".join(
            f"{n!r} (columns {', '.join(str(k + 1) for k, m in enumerate(names) if m == n)})"
            for n in twice)
        raise DataFileError(f"{path}: column names given more than once: {where}; name each "
                            "column once")
    return frame


def _csv_header(path: Path) -> list[str]:
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle), [])


# --- networks -----------------------------------------------------------------


def write_weights(net, path, extra: dict[str, Any] | None = None) -> None:
    from sklandscape.model.network import weights_frame

    metadata = {
        "activation": net.activation,
        "out_activation": net.out_activation,
        "layer_sizes": list(net.layer_sizes),
        **({"classes": list(net.classes)} if net.classes is not None else {}),
        **({"scaler": net.scaler.to_dict()} if net.scaler is not None else {}),
        **(extra or {}),
    }
    write_table(weights_frame(net), path, metadata)


def read_weights(path):
    from sklandscape.model.network import network_from_frame

    frame, metadata = read_table(path)
    missing = [k for k in ("activation", "out_activation", "layer_sizes") if k not in metadata]
    if missing:
        raise ValueError(f"{path}: weights file lacks metadata key(s) {missing}")
    return network_from_frame(
        frame, metadata["layer_sizes"], metadata["activation"], metadata["out_activation"],
        source=str(path), classes=metadata.get("classes"), scaler=metadata.get("scaler"),
    )


def write_trajectory(net, states, path, extra: dict[str, Any] | None = None) -> None:
    """One row per recorded iterate: `iteration`, then one column per weight name."""
    import numpy as np

    frame = pd.DataFrame(np.asarray(states, dtype=np.float64), columns=net.names)
    frame.insert(0, "iteration", np.arange(len(frame), dtype=np.int64))
    metadata = {
        "activation": net.activation,
        "out_activation": net.out_activation,
        "layer_sizes": list(net.layer_sizes),
        **(extra or {}),
    }
    write_table(frame, path, metadata)


def read_trajectory(path):
    """(iterations, states (n, P), metadata); the columns must be the network's weight names."""
    from sklandscape.model.network import parameter_names

    frame, metadata = read_table(path)
    names = parameter_names(metadata["layer_sizes"])
    if list(frame.columns) != ["iteration", *names]:
        raise ValueError(f"{path}: expected columns 'iteration' and the {len(names)} weight "
                         f"names of layer sizes {metadata['layer_sizes']}")
    return frame["iteration"].to_numpy(), frame[names].to_numpy(dtype="float64"), metadata


# --- tables for people: CSV and a sortable HTML page ------------------------------


def write_csv(frame: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        # repr-exact floats: a CSV reader gets back the Parquet values bit for bit
        frame.to_csv(tmp, index=False, float_format=None)


_SORTABLE_SCRIPT = """<script>
// Click a column header to sort by it; click again to reverse.
document.querySelectorAll("table.sortable th").forEach((th, col) => {
  th.style.cursor = "pointer";
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const ascending = th.dataset.order !== "asc";
    th.dataset.order = ascending ? "asc" : "desc";
    const key = row => {
      const text = row.cells[col].textContent.trim();
      const number = Number(text);
      return text !== "" && !Number.isNaN(number) ? number : text;
    };
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
      return ascending ? order : -order;
    });
    rows.forEach(row => body.appendChild(row));
  });
});
</script>"""


def write_sortable_html(frame: pd.DataFrame, path, title: str, caption: str = "") -> None:
    """A self-contained HTML page: the table, sortable by clicking a column header."""
    import html

    table = frame.to_html(index=False, classes="sortable", border=0, float_format="{:.6g}".format,
                          na_rep="")
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>\n<style>"
        "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;font-size:13px}"
        "th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #ddd}"
        "th{background:#f0f0f0;position:sticky;top:0}</style></head><body>\n"
        f"<h2>{html.escape(title)}</h2>\n<p>{html.escape(caption)}</p>\n{table}\n"
        f"{_SORTABLE_SCRIPT}\n</body></html>\n"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def write_text_file(path, text: str) -> None:
    """A text file (an HTML page), whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# Types a model file may contain; anything else makes loading fail (skops' trusted check).
TRUSTED_MODEL_TYPES = [
    "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.utils._bunch.Bunch",
]


def write_model(model, path) -> None:
    import skops.io

    with atomic_path(path) as tmp:
        skops.io.dump(model, tmp)


def read_model(path):
    import skops.io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        # e.g. a pickle renamed to .skops: never handed to anything that would unpickle it
        raise UntrustedModelError(f"{path}: not a skops model file (not a zip archive); not loaded")
    try:
        found = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # a damaged archive or schema: say so, load nothing
        raise UntrustedModelError(
            f"{path}: unreadable skops model file ({error}); not loaded"
        ) from None
    untrusted = sorted(t for t in found if t not in TRUSTED_MODEL_TYPES)
    if untrusted:
        raise UntrustedModelError(
            f"{path}: refusing to load a model file that references untrusted types {untrusted}; "
            f"a sklandscape model contains only {TRUSTED_MODEL_TYPES} and numpy arrays"
        )
    return skops.io.load(path, trusted=TRUSTED_MODEL_TYPES)
