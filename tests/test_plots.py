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


def test_an_unreadable_frame_is_left_out_of_the_animation_with_a_warning(tmp_path):
    from PIL import Image
    frames = []
    noise = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    for k in range(4):
        frames.append(tmp_path / f"iter_{k:06d}.png")
        plots.save_image(frames[-1], noise // 4 * k)
    frames[1].write_bytes(b"junk")                                   # not a picture
    cut = frames[2].read_bytes()
    frames[2].write_bytes(cut[:len(cut) // 2])                       # a truncated one
    said = []
    plots.save_gif(tmp_path / "p.gif", frames, warn=said.append)
    with Image.open(tmp_path / "p.gif") as im:
        assert im.n_frames == 2
        im.seek(1)
        assert im.convert("L").getpixel((0, 0)) == noise[0, 0] // 4 * 3   # the last frame
    assert said == [f"warning: {frames[1]} left out of the animation: not a picture",
                    f"warning: {frames[2]} left out of the animation: image file is truncated"]
    plots.save_gif(tmp_path / "none.gif", frames[1:3], warn=said.append)   # nothing readable
    assert not (tmp_path / "none.gif").exists()
