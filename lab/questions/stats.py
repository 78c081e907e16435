"""Numbers with their uncertainty: mean ± standard deviation over seeds, the binomial standard error
of a test accuracy, and whether a difference stands out of the noise."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Spread:
    """Mean and sample standard deviation of values from independent runs (seeds)."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        values = [v for v in values if v == v]  # drop NaN (a diverged run)
        if not values:
            return cls(math.nan, math.nan, 0)
        return cls(statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))

    @property
    def se(self) -> float:
        """Standard error of the mean (0 with a single value: no spread was measured)."""
        return self.std / math.sqrt(self.n) if self.n > 1 else 0.0

    def pct(self, digits: int = 2) -> str:
        """'70.43 ± 1.36' (percent, mean ± std); a single run shows its value alone."""
        if self.n == 0:
            return "–"
        return f"{100 * self.mean:.{digits}f}" + (f" ± {100 * self.std:.{digits}f}" if self.n > 1 else "")


def binomial_se(p: float, n: int) -> float:
    """Standard error of an accuracy p measured on n independent images."""
    return math.sqrt(max(p * (1 - p), 0.0) / n) if n else math.nan


def pct(x: float, digits: int = 2) -> str:
    return "–" if x != x else f"{100 * x:.{digits}f}"


@dataclass
class Difference:
    """b - a for two settings measured over seeds, with the standard error of that difference."""

    delta: float
    se: float

    @classmethod
    def between(cls, a: Spread, b: Spread) -> Difference:
        return cls(b.mean - a.mean, math.sqrt(a.se**2 + b.se**2))

    @property
    def measurable(self) -> bool:
        """Beyond two standard errors; never with a single seed (no spread was measured)."""
        return self.se > 0 and abs(self.delta) > 2 * self.se

    def points(self) -> str:
        """'+2.30 ± 0.80 points (s.e.)' (± one standard error), or the delta alone when no spread was measured."""
        return f"{100 * self.delta:+.2f}" + (f" ± {100 * self.se:.2f} points (s.e.)" if self.se > 0 else " points")

    def tie(self) -> str:
        """The verdict, saying "tied" when the two settings cannot be told apart."""
        return self.verdict().replace("no measurable effect", "tied: no measurable difference", 1)

    def verdict(self) -> str:
        """The difference in words: a measured gain or loss, or no measurable effect."""
        if self.se == 0:
            return f"{self.points()} (one seed: no spread measured, so no verdict)"
        if not self.measurable:
            return f"no measurable effect ({self.points()}, within two standard errors)"
        return f"{'better' if self.delta > 0 else 'worse'} by {self.points()}"


def spread_words(seeds: int) -> str:
    """What a ± means, in words: 'mean ± std over 3 seeds', or 'one seed: no spread measured'."""
    return f"mean ± std over {seeds} seeds" if seeds > 1 else "one seed: no spread measured"


def count(n: int, noun: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
