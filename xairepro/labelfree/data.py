"""Demo stand-ins with planted ground truth for the ``labelfree`` study.

* :func:`render_dsprites` re-renders dSprites (Matthey et al. 2017) procedurally: every
  image is drawn from its five generative factors (shape, scale, orientation, x, y), which
  are returned with it and are the ground truth of the disentanglement experiment.
* :func:`simulate_ecg_beats` stands in for ECG5000: single beats of 140 samples simulated
  with neurokit2's ECGSYN model, "normal" with the default wave parameters and "abnormal"
  with an inverted T wave; the time steps where the two morphologies differ are returned
  as the planted mask.
"""

from __future__ import annotations

import numpy as np

#: dSprites factor grid: name -> number of values (the original's sizes).
DSPRITES_FACTORS = {"shape": 3, "scale": 6, "orientation": 40, "pos_x": 32, "pos_y": 32}
SHAPES = ("square", "ellipse", "heart")


def _outline(shape: str, n: int = 64) -> np.ndarray:
    """Unit-size outline of a shape as ``(n, 2)`` points (x, y), centred on the origin."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    if shape == "square":
        return np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    if shape == "ellipse":
        return np.stack([0.5 * np.cos(t), 0.32 * np.sin(t)], axis=1)
    if shape == "heart":
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return np.stack([x, -y], axis=1) / 34.0
    raise ValueError(f"unknown shape {shape!r}; choose from {SHAPES}")


def render_dsprites(n: int, size: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw ``n`` dSprites images with uniformly sampled factors.

    Returns
    -------
    dict
        ``images`` uint8 ``(n, size, size)`` in {0, 1}; ``factors`` int64 ``(n, 5)``, the
        index of each factor in :data:`DSPRITES_FACTORS` order; ``values`` float32
        ``(n, 5)``: shape id, scale in [0.5, 1], orientation in [0, 2 pi), x and y in [0, 1].
    """
    from skimage.draw import polygon

    rng = np.random.default_rng(seed)
    sizes = list(DSPRITES_FACTORS.values())
    factors = np.stack([rng.integers(0, k, n) for k in sizes], axis=1)
    scale = np.linspace(0.5, 1.0, sizes[1])[factors[:, 1]]
    angle = np.linspace(0, 2 * np.pi, sizes[2], endpoint=False)[factors[:, 2]]
    pos_x = np.linspace(0, 1, sizes[3])[factors[:, 3]]
    pos_y = np.linspace(0, 1, sizes[4])[factors[:, 4]]
    outlines = {shape: _outline(shape) for shape in SHAPES}
    images = np.zeros((n, size, size), dtype=np.uint8)
    extent = 0.3 * size  # a scale-1 shape spans 30 % of the canvas, centres stay inside
    margin = extent / 2 + 1
    for i in range(n):
        cos, sin = np.cos(angle[i]), np.sin(angle[i])
        pts = outlines[SHAPES[factors[i, 0]]] @ np.array([[cos, sin], [-sin, cos]]) * scale[i] * extent
        cx = margin + pos_x[i] * (size - 1 - 2 * margin)
        cy = margin + pos_y[i] * (size - 1 - 2 * margin)
        rows, cols = polygon(pts[:, 1] + cy, pts[:, 0] + cx, shape=(size, size))
        images[i, rows, cols] = 1
    values = np.stack([factors[:, 0], scale, angle, pos_x, pos_y], axis=1).astype(np.float32)
    return {"images": images, "factors": factors.astype(np.int64), "values": values}


def simulate_ecg_beats(
    n_normal: int, n_abnormal: int, length: int = 140, seed: int = 0, noise: float = 0.01
) -> dict[str, np.ndarray]:
    """ECG5000-like beats: ``length`` samples per beat, R peak at the same place in each.

    One long ECGSYN recording per class is simulated at ``length`` Hz and 60 beats per
    minute (one beat per ``length`` samples), cut into beats, and each beat z-normalised as
    in ECG5000. "Abnormal" beats carry an inverted T wave.

    Returns
    -------
    dict
        ``beats`` float32 ``(n_normal + n_abnormal, length)``; ``labels`` int64, 1 = normal
        (ECG5000's class 1), 0 = abnormal; ``planted`` bool ``(length,)``, the T-wave
        window, by construction: ECGSYN places the T wave 100 degrees of the cycle after
        the R peak with a width of 0.4 rad, so the window is centre +- 2 widths. It is the
        ground truth of what distinguishes the classes.
    """
    import neurokit2 as nk

    def beats(count: int, ai: tuple[float, ...], random_state: int) -> np.ndarray:
        signal = nk.ecg_simulate(duration=count + 3, sampling_rate=length, heart_rate=60, heart_rate_std=0,
                                 noise=noise, method="ecgsyn", random_state=random_state, ai=ai)
        signal = np.asarray(signal, dtype=np.float64)
        first_r = int(np.argmax(signal[length : 2 * length])) + length
        start = first_r - r_index
        cut = np.stack([signal[start + i * length : start + (i + 1) * length] for i in range(count)])
        cut = cut - cut.mean(axis=1, keepdims=True)
        return cut / cut.std(axis=1, keepdims=True)

    r_index = length // 3  # R peak at a third of the window, as in ECG5000
    normal_ai = (1.2, -5.0, 30.0, -7.5, 0.75)
    abnormal_ai = (1.2, -5.0, 30.0, -7.5, -0.75)  # inverted T wave
    normal = beats(n_normal, normal_ai, seed)
    abnormal = beats(n_abnormal, abnormal_ai, seed + 1)
    t_centre = r_index + 100 / 360 * length  # ECGSYN's default T-wave angle, 100 degrees
    t_width = 0.4 / (2 * np.pi) * length  # and width, 0.4 rad, in samples
    planted = np.abs(np.arange(length) - t_centre) <= 2 * t_width
    return {
        "beats": np.concatenate([normal, abnormal]).astype(np.float32),
        "labels": np.concatenate([np.ones(n_normal), np.zeros(n_abnormal)]).astype(np.int64),
        "planted": planted,
    }


#: The official dSprites file (DeepMind), for the paper scale.
DSPRITES_URL = "https://github.com/deepmind/dsprites-dataset/raw/master/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
DSPRITES_CHECKSUM = "md5:7da33b31b13a06f4b04a70402ce90c2e"


def read_official_dsprites(path) -> dict[str, np.ndarray]:
    """The arrays of the official dSprites ``.npz`` in :func:`render_dsprites`' layout.

    Its ``metadata`` entry is a pickled object and is never read (``allow_pickle=False``);
    ``imgs``, ``latents_classes`` and ``latents_values`` are plain arrays.
    """
    from xairepro.common.errors import InputError

    try:
        with np.load(path, allow_pickle=False) as data:
            images = data["imgs"].astype(np.uint8)
            classes = data["latents_classes"][:, 1:].astype(np.int64)  # drop the constant colour factor
            values = data["latents_values"][:, 1:].astype(np.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(path, f"not the official dSprites npz ({exc})") from exc
    return {"images": images, "factors": classes, "values": values}
