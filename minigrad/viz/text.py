"""Plain-text tables for the reports (gradient flow, residual blocks)."""


def table(rows: list[tuple[str, ...]]) -> str:
    """Align rows of strings in columns: the first column left, the others right; the first row
    is the header, underlined."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def html_table(rows: list[tuple[str, ...]]) -> str:
    """The same rows as an HTML table (the first row is the header), for Jupyter and reports."""
    import html

    def cells(row, tag):
        return "".join(f"<{tag}>{html.escape(cell)}</{tag}>" for cell in row)

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows[1:])
    return f"<table><thead><tr>{cells(rows[0], 'th')}</tr></thead><tbody>{body}</tbody></table>"


class TextTable(str):
    """A table that prints as aligned text and shows itself as an HTML table in Jupyter."""

    def __new__(cls, rows: list[tuple[str, ...]]):
        text = super().__new__(cls, table(rows))
        text.rows = rows
        return text

    def _repr_html_(self) -> str:
        return html_table(self.rows)
