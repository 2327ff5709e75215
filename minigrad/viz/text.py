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
