"""CSV for spreadsheets: cells that would run as formulas are defused, rows are streamed."""

import csv
from collections.abc import Iterable, Iterator

# OWASP's CSV injection guidance: a cell starting with one of these is read as a formula
# by Excel, LibreOffice or Sheets, so it gets a leading single quote. A negative number
# such as -5 is escaped too: it cannot be told apart from "-2+3" without parsing formulas.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """A file that hands back what csv.writer writes to it instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def stream_rows(header: Iterable[str], rows: Iterable[Iterable[object]],
                lines: int = 500) -> Iterator[str]:
    """The CSV text of `header` then `rows`, every cell made safe, `lines` rows a chunk
    (a chunk per row would cost more in the server than writing the row)."""
    writer = csv.writer(_Line())
    chunk = [writer.writerow([safe_cell(c) for c in header])]
    for row in rows:
        chunk.append(writer.writerow([safe_cell(c) for c in row]))
        if len(chunk) >= lines:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
