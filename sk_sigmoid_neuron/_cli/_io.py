"""CSV files for the command line, read and written by pandas (the ``cli`` extra).

pandas parses the file; this module chooses the delimiter, sets the row
index apart and turns the problems of a file into messages that name the
line, the column and the fix.
"""

import csv
import math

import numpy as np

from . import UsageError

INSTALL = 'pip install "sk-sigmoid-neuron[cli]"'
# the delimiters detected; --sep forces any other
DELIMITERS = ",;\t|"
SNIFF_LINES = 20


def pandas():
    """pandas, or a UsageError that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise UsageError(
            f"reading CSV files needs pandas, which is not installed; install it "
            f"with {INSTALL}"
        ) from None
    return pandas


def delimiter_name(sep):
    return "tab" if sep == "\t" else repr(sep)


def _sniff(lines):
    """The delimiter of ``lines`` among :data:`DELIMITERS`, else ','.

    pandas' ``sep=None`` sniffs the header line alone among all characters,
    so a one-column file (a header such as ``x1``) is split at a letter; and
    it does not say which delimiter it chose, which messages name.
    """
    try:
        return csv.Sniffer().sniff("".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or lines that disagree
        return ","


def _head(path):
    """The blank lines before the header row, and the first non-blank lines."""
    blank, lines = 0, []
    with open(path, encoding="utf-8-sig") as file:
        for line in file:
            if line.strip():
                lines.append(line)
                if len(lines) == SNIFF_LINES:
                    break
            elif not lines:
                blank += 1
    return blank, lines


def _decimal_comma_hint(cell, table):
    """Advice for a number such as 1,5 in a file that reads decimal points."""
    if table.decimal != "." or table.sep == "," or "," not in cell:
        return ""
    try:
        number = math.isfinite(float(cell.replace(",", ".")))
    except ValueError:
        number = False
    return "; numbers with a decimal comma need --decimal ," if number else ""


class Table:
    """A CSV file read for the command line.

    Attributes
    ----------
    path : str
        The file.

    frame : pandas.DataFrame
        Its columns, by name, and its rows but the empty ones; its index is
        the file's index column (an unnamed first column), if it has one.

    lines : ndarray of int
        The line of the file of each row of ``frame``.

    has_index : bool
        Whether the file has an index column.

    sep, decimal : str
        The delimiter and the decimal mark that split the file.

    sniffed : bool
        Whether the delimiter was detected (else ``--sep`` set it).
    """

    def __init__(self, path, frame, lines, has_index, sep, decimal, sniffed):
        self.path, self.frame, self.lines = path, frame, lines
        self.has_index, self.sep, self.decimal = has_index, sep, decimal
        self.sniffed = sniffed

    @property
    def columns(self):
        return list(self.frame.columns)

    def how_split(self):
        """How the columns were found, for messages about a missing column."""
        sep = delimiter_name(self.sep)
        if self.sniffed:
            return f"columns split at {sep}, detected; --sep sets the delimiter"
        return f"columns split at {sep}, as --sep asked"

    def check_columns(self, names, option=None):
        """Fail, listing the file's columns, if one of ``names`` is not among them."""
        for name in names:
            if name not in self.frame.columns:
                raise UsageError(
                    f"{option + ': ' if option else ''}{self.path} has no column "
                    f"{name!r}; its columns are: {', '.join(self.columns)} "
                    f"({self.how_split()})"
                )

    def numbers(self, names, features=False):
        """The columns ``names`` as a float64 DataFrame (the file's index).

        A cell that is not a finite number is an error that names its line and
        column. With ``features``, a column of text (no number at all) is an
        error that suggests leaving it out with --exclude or --id.
        """
        pd = pandas()
        self.check_columns(names)
        values = np.empty((len(self.frame), len(names)))
        for j, name in enumerate(names):
            column = self.frame[name]
            if not pd.api.types.is_numeric_dtype(column):  # text: find the numbers
                if self.decimal != ".":
                    column = column.str.replace(self.decimal, ".", regex=False)
                column = pd.to_numeric(column, errors="coerce")
            values[:, j] = column.to_numpy(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]  # the first in the file
            self._bad_cell(i, names[j], features and np.all(bad[:, j]))
        return pd.DataFrame(values, index=self.frame.index, columns=names)

    def _bad_cell(self, i, name, no_number):
        value = self.frame[name].iloc[i]
        if pandas().isna(value):
            cell = ""
        else:
            cell = value.strip() if isinstance(value, str) else f"{value:g}"
        hint = _decimal_comma_hint(cell, self)
        line = self.lines[i]
        if no_number and cell and not hint:
            raise UsageError(
                f"{self.path}: column {name!r} holds text (line {line}: {cell!r}), "
                f"not numbers; leave it out of the features with --exclude {name}, "
                f"or --id {name} for a column that identifies the rows"
            )
        what = f"is {cell!r}" if cell else "is empty"
        raise UsageError(
            f"{self.path}, line {line}: column {name!r} {what}, not a finite "
            "number; the columns used must hold numbers only (fill in or remove "
            f"missing values){hint}"
        )


def read_csv(path, sep=None, decimal=".", id_column=None):
    """Read the CSV file ``path`` for the command line.

    The delimiter is ``sep``, or detected from the first lines. An unnamed
    first column is the row index, as pandas' ``to_csv`` (and R's
    ``write.csv``) write it. The index and the column ``id_column`` (``--id``)
    are read as text, as written; the others as pandas reads them.
    Empty rows are left out.

    Returns
    -------
    table : Table
    """
    pd = pandas()
    try:
        blank, head = _head(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"{path} is not a UTF-8 text file; a CSV file with a header row of "
            "column names is needed"
        ) from None
    if not head:
        raise UsageError(
            f"{path} is empty; it needs a header row of column names, then rows of "
            "numbers"
        )
    sniffed = sep is None
    if sniffed:
        sep = _sniff(head)
    if decimal == sep:
        raise UsageError(
            f"--decimal {decimal!r} is also the delimiter of {path}; give its "
            "delimiter with --sep"
        )
    options = dict(
        sep=sep,
        skiprows=blank,
        encoding="utf-8-sig",
        skipinitialspace=True,
        keep_default_na=False,  # only an empty cell is missing: messages show 'nan'
        na_values=[""],
    )
    try:
        names = pd.read_csv(path, header=None, nrows=1, dtype=str, **options)
        names = [str(name).strip() for name in names.iloc[0].fillna("")]
        has_index = len(names) > 1 and not names[0]
        _check_header(path, names, has_index)
        if has_index:
            names = names[1:]
        text = {id_column: str} if id_column in names else {}
        frame = pd.read_csv(
            path,
            decimal=decimal,
            index_col=0 if has_index else None,
            dtype={0: str, **text} if has_index else text,
            # blank lines are rows, so that row k is on line k + 2 (+ blank)
            skip_blank_lines=False,
            **options,
        )
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 text file") from None
    except (pd.errors.ParserError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise UsageError(f"{path} is not a valid CSV file: {message}") from None
    frame.columns = names
    lines = np.arange(len(frame)) + blank + 2
    empty = frame.isna().all(axis=1).to_numpy()
    if has_index:
        empty = empty & frame.index.isna()
    frame, lines = frame[~empty], lines[~empty]
    if frame.empty:
        raise UsageError(f"{path} has a header row but no rows of data")
    return Table(path, frame, lines, has_index, sep, decimal, sniffed)


def _check_header(path, names, has_index):
    for i, name in enumerate(names, start=1):
        if not name and not (i == 1 and has_index):
            raise UsageError(
                f"{path}: column {i} of the header row has no name; name it in "
                "the header row (or delete the column)"
            )
        if names.index(name) != i - 1:
            raise UsageError(f"{path}: the header names column {name!r} twice")


def write_predictions(file, table, y_pred, id_column=None):
    """Write ``y_pred`` for the rows of ``table`` as CSV to ``file``.

    The row ids first: the ``id_column``, else the file's index under an
    empty name, as pandas writes it (``read_csv(..., index_col=0)`` reads it
    back). The predictions are ``prediction``, or ``prediction_0``,
    ``prediction_1``, ... for several outputs.
    """
    pd = pandas()
    y_pred = np.asarray(y_pred).reshape(len(table.frame), -1)
    columns = ["prediction"]
    if y_pred.shape[1] > 1:
        columns = [f"prediction_{k}" for k in range(y_pred.shape[1])]
    out = pd.DataFrame(y_pred, index=table.frame.index, columns=columns)
    index = table.has_index and id_column is None
    if id_column is not None:
        out.insert(0, id_column, table.frame[id_column].to_numpy())
    elif index:
        out.index.name = None
    out.to_csv(file, index=index, lineterminator="\n")
    return len(out)
