"""Pictures people can read: titles, axis labels, legends, a bound that does not flatten the curves,
categorical colours with a legend, named rows and columns (the figures are inspected, not the pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from shell import pictures


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list:
    got: list = []
    monkeypatch.setattr(pictures, "_png_of", lambda fig: got.append(fig) or b"\x89PNG")
    return got


def test_a_far_bound_is_named_not_drawn_and_axes_are_labelled(figures: list) -> None:
    pictures.line_plot(
        {"model": [0.003, 0.0036], "copy-last": [0.004, 0.0053]}, "rollout MSE",
        hlines={"bound": 0.05}, xlabel="autoregressive step", ylabel="MSE",
    )  # fmt: skip
    ax = figures[-1].axes[0]
    assert ax.get_title() == "rollout MSE"
    assert ax.get_xlabel() == "autoregressive step" and ax.get_ylabel() == "MSE"
    assert ax.get_ylim()[1] < 0.05  # the curves keep the scale
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["model", "copy-last"] and "off the scale" in labels[2]
    pictures.line_plot({"loss": [1.0, 0.5]}, "loss", hlines={"tau": 0.7}, x=[50, 100])
    ax = figures[-1].axes[0]
    assert ax.get_ylim()[0] <= 0.7 <= ax.get_ylim()[1]  # a bound near the data is drawn
    assert list(ax.lines[0].get_xdata()) == [50, 100]  # the x axis is the step, not the index


def test_categories_get_a_legend_and_values_a_colour_bar(figures: list) -> None:
    xy = np.random.default_rng(0).normal(size=(12, 2))
    pictures.scatter(xy, np.repeat([0.0, 3.0, 5.0], 4), "latents", label="level")
    ax = figures[-1].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["level 0", "level 3", "level 5"]
    pictures.scatter(xy, np.arange(12.0), "latents", label="frame", categorical=False)
    assert len(figures[-1].axes) == 2  # the plot and its colour bar


def test_grids_name_their_rows_and_columns(figures: list) -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    pictures.labelled_grid(
        [[img, img], [img, img]], "m1", ["worst", "best"], ["truth", "reconstruction"]
    )
    axes = figures[-1].axes
    assert [a.get_title() for a in axes[:2]] == ["truth", "reconstruction"]
    assert [axes[0].get_ylabel(), axes[2].get_ylabel()] == ["worst", "best"]
