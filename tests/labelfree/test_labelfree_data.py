"""The labelfree demo generators plant what they say they plant."""

import numpy as np
import pytest

from xairepro.labelfree.data import DSPRITES_FACTORS, render_dsprites, simulate_ecg_beats


@pytest.fixture(scope="module")
def sprites():
    return render_dsprites(600, seed=0)


def test_dsprites_shapes_and_factor_ranges(sprites):
    assert sprites["images"].shape == (600, 64, 64) and set(np.unique(sprites["images"])) == {0, 1}
    for j, k in enumerate(DSPRITES_FACTORS.values()):
        assert sprites["factors"][:, j].min() >= 0 and sprites["factors"][:, j].max() < k
    assert sprites["images"].reshape(600, -1).sum(1).min() > 10  # every sprite is drawn


def test_dsprites_position_factors_are_the_centroid(sprites):
    images, values = sprites["images"].astype(float), sprites["values"]
    rows, cols = np.mgrid[0:64, 0:64]
    mass = images.sum(axis=(1, 2))
    cx = (images * cols).sum(axis=(1, 2)) / mass
    cy = (images * rows).sum(axis=(1, 2)) / mass
    assert np.corrcoef(cx, values[:, 3])[0, 1] > 0.99
    assert np.corrcoef(cy, values[:, 4])[0, 1] > 0.99


def test_dsprites_area_grows_with_scale_for_every_shape(sprites):
    area = sprites["images"].reshape(600, -1).sum(1)
    for shape in range(3):
        sel = sprites["factors"][:, 0] == shape
        assert np.corrcoef(area[sel], sprites["values"][sel, 1])[0, 1] > 0.95


def test_dsprites_is_reproducible_from_its_seed():
    a, b = render_dsprites(20, seed=3), render_dsprites(20, seed=3)
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["factors"], b["factors"])
    assert not np.array_equal(a["images"], render_dsprites(20, seed=4)["images"])


@pytest.fixture(scope="module")
def ecg():
    return simulate_ecg_beats(40, 40, seed=0)


def test_ecg_beats_are_aligned_and_normalised(ecg):
    beats = ecg["beats"]
    assert beats.shape == (80, 140) and beats.dtype == np.float32
    np.testing.assert_allclose(beats.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(beats.std(axis=1), 1, atol=1e-4)
    r_peaks = beats.argmax(axis=1)
    assert np.ptp(r_peaks) <= 2 * 3 + 2  # the R peak sits within the random offset (3 steps)
    assert np.abs(np.corrcoef(beats[:40])).min() < 0.99  # recordings differ: beats vary
    assert (ecg["labels"] == 1).sum() == 40


def test_ecg_classes_differ_where_the_planted_t_wave_is(ecg):
    planted = ecg["planted"]
    r_peak = int(np.median(ecg["beats"].argmax(axis=1)))
    assert 10 <= planted.sum() <= 60 and np.flatnonzero(planted).min() > r_peak + 5
    diff = np.abs(ecg["beats"][ecg["labels"] == 0].mean(0) - ecg["beats"][ecg["labels"] == 1].mean(0))
    assert planted[diff.argmax()]
    assert diff[planted].mean() > 2 * diff[~planted].mean()
    normal = ecg["beats"][ecg["labels"] == 1][:, planted].mean()
    abnormal = ecg["beats"][ecg["labels"] == 0][:, planted].mean()
    assert normal > abnormal  # upright vs inverted T wave
