"""What the pictures show beyond their pixels: here, points a scatter cannot show."""

import numpy as np

from tinygan import plots


def test_a_scatter_says_how_many_generated_points_fall_outside_its_frame(tmp_path):
    """The axes follow the real data (every frame alike), so points beyond them are counted."""
    from matplotlib.figure import Figure
    reference = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    samples = np.array([[0.5, 0.5], [3.0, 0.0], [0.0, -9.0], [1.2, -1.2]])
    ax = Figure().add_subplot()
    assert plots._note_outside(ax, samples, 1.25) == 2
    assert [t.get_text() for t in ax.texts] == ["2 of 4 generated points outside"]
    assert plots._note_outside(Figure().add_subplot(), samples[:1], 1.25) == 0
    plots.save_scatter(tmp_path / "s.png", samples, reference, "t")
    plots.save_real_vs_generated_points(tmp_path / "r.png", reference, samples, "t")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
