"""How gradients look: a log-scale colour ramp and pen widths for edges, and the legend.

Darker and thicker means more gradient. The ramp spans the smallest to the largest finite,
non-vanishing edge norm of the picture on a log10 scale; vanishing gradients (norm below a
threshold) are dotted grey, NaN/inf are red, skip (residual) edges are dashed.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.viz.stats import GradStats

RAMP = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"]
NO_GRAD, VANISHING, NONFINITE = "#555555", "#aaaaaa", "#d62728"


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


class Scale:
    """Maps a gradient norm to (colour, pen width) on a log scale over [low, high].

    ``high`` is the largest norm; ``low`` the 5th percentile, so that one outlier (a bias whose
    gradient is zero up to rounding) does not wash all other edges into one colour.
    """

    def __init__(self, norms, vanishing: float):
        logs = [math.log10(n) for n in norms if math.isfinite(n) and n >= vanishing and n > 0]
        self.vanishing = vanishing
        self.low, self.high = (float(np.percentile(logs, 5)), max(logs)) if logs else (0.0, 0.0)

    def position(self, norm: float) -> float:
        """Where ``norm`` sits on the ramp, 0 (smallest) to 1 (largest)."""
        if self.high == self.low:
            return 1.0
        return min(max((math.log10(norm) - self.low) / (self.high - self.low), 0.0), 1.0)

    def colour(self, t: float) -> str:
        """The ramp colour at position ``t`` in [0, 1]."""
        x = t * (len(RAMP) - 1)
        i = min(int(x), len(RAMP) - 2)
        return _mix(RAMP[i], RAMP[i + 1], x - i)

    def edge_attrs(self, grad: GradStats | None) -> dict[str, str]:
        """Graphviz attributes for an edge carrying ``grad``."""
        if grad is None:
            return {"color": NO_GRAD, "penwidth": "1"}
        if grad.nonfinite:
            return {"color": NONFINITE, "penwidth": "3", "fontcolor": NONFINITE}
        if grad.vanishing(self.vanishing):
            return {"color": VANISHING, "penwidth": "1", "style": "dotted", "fontcolor": VANISHING}
        t = self.position(grad.norm)
        colour = self.colour(t)
        return {"color": colour, "penwidth": f"{0.8 + 3.2 * t:.2f}", "fontcolor": colour}

    def legend(self, skip: bool = False, vanishing: bool = False, nonfinite: bool = False) -> str:
        """An HTML-like graphviz label explaining the colours and line styles the picture uses:
        the ramp (one row when all gradients share one norm, else five distinct values), and
        rows for ``skip`` edges, ``vanishing`` and ``nonfinite`` gradients only when drawn."""
        rows = ['<TR><TD COLSPAN="2"><B>gradient norm (log scale)</B></TD></TR>']
        shown = []
        for k in range(5 if self.high > self.low else 1):
            t = 1.0 if self.high == self.low else k / 4
            text = f"{10 ** (self.low + t * (self.high - self.low)):.1e}"
            if text in shown:
                continue
            shown.append(text)
            below = "&lt;= " if k == 0 and self.high > self.low else ""
            rows.append(
                f'<TR><TD BGCOLOR="{self.colour(t)}" WIDTH="36"> </TD>'
                f'<TD ALIGN="LEFT">{below}{text}</TD></TR>'
            )
        if skip:
            rows.append('<TR><TD>- - -</TD><TD ALIGN="LEFT">skip (residual) edge</TD></TR>')
        if vanishing:
            rows.append(
                f'<TR><TD><FONT COLOR="{VANISHING}">. . .</FONT></TD>'
                f'<TD ALIGN="LEFT">vanishing (&lt; {self.vanishing:.0e})</TD></TR>'
            )
        if nonfinite:
            rows.append(f'<TR><TD BGCOLOR="{NONFINITE}"> </TD><TD ALIGN="LEFT">NaN / inf</TD></TR>')
        return (
            '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" COLOR="#999999">'
            + "".join(rows)
            + "</TABLE>>"
        )
