"""The data-table alternative to a chart, for screen readers and for reading values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import ChartOptions, ChartSeries, ema, unique_labels, x_axis_title

TABLE_COLUMNS = ("Run", "Metric", "Points", "First x", "Last x", "Last value", "Min", "Max")


@dataclass(frozen=True)
class TableRow:
    """One series summed up: what a reader takes from its line.

    Numbers are plain floats (None when the series has no finite point);
    the template formats them. `last_smoothed` is set when smoothing is on.
    """

    run: str
    metric: str
    points: int
    first_x: float | None
    last_x: float | None
    last: float | None
    min: float | None
    max: float | None
    last_smoothed: float | None = None
    gaps: int = 0  # NaN/inf values, drawn as breaks in the line


@dataclass(frozen=True)
class DataTable:
    """Rows plus the x-axis name, so the template can say "Last step" or "Last epoch"."""

    x_title: str
    rows: list[TableRow]
    columns: tuple[str, ...] = TABLE_COLUMNS
    digits: int = 4  # significant digits that tell the values apart

    @property
    def gap_rows(self) -> list[TableRow]:
        """The rows with NaN/inf values, for the note under the table."""
        return [row for row in self.rows if row.gaps]


def data_table(series: Sequence[ChartSeries], options: ChartOptions | None = None) -> DataTable:
    """Summarise each charted series (same runs, metrics and labels as the chart)."""
    options = options or ChartOptions()
    selected = options.select(series)
    run_labels = options.run_labels(series)
    metric_labels = unique_labels([s.metric for s in selected], [s.metric for s in selected])
    rows = []
    for s in selected:
        xs, ys = s.finite_points()
        smoothed = ema(ys, options.smoothing) if ys and options.smoothing > 0 else None
        rows.append(
            TableRow(
                run=run_labels[s.key],
                metric=metric_labels[s.metric],
                points=len(ys),
                first_x=xs[0] if xs else None,
                last_x=xs[-1] if xs else None,
                last=ys[-1] if ys else None,
                min=min(ys) if ys else None,
                max=max(ys) if ys else None,
                last_smoothed=smoothed[-1] if smoothed else None,
                gaps=s.gaps(),
            )
        )
    values = [v for row in rows for v in (row.last, row.min, row.max)]
    digits = distinguishing_digits(values)
    return DataTable(x_title=x_axis_title(selected, options), rows=rows, digits=digits)


def distinguishing_digits(values: Iterable[float | None], *, least: int = 4, most: int = 10) -> int:
    """The fewest significant digits (≥ least) at which distinct numbers print distinctly.

    0.999996 and 1 need 6: at 4 both read "1". Capped at `most`, past which
    differences are float noise.
    """
    numbers = {v for v in values if v is not None}
    for digits in range(least, most):
        if len({f"{n:.{digits}g}" for n in numbers}) == len(numbers):
            return digits
    return most
