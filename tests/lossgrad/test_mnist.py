"""The lossgrad MNIST steps on a small slice of the demo data."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.io import load_arrays, read_json, save_arrays
from xairepro.lossgrad.data import black_pixel, load_split, make_demo_digits
from xairepro.lossgrad.models import Net, parse_variant, variant_name
from xairepro.lossgrad.steps import compute_gradients, occlusion_sweep
from xairepro.lossgrad.train import load_model, train_classifier
from xairepro.lossgrad.tables import aggregate_sweeps, mnist_claims

ARCH = {"conv1_channels": 4, "conv2_channels": 8, "hidden_units": 32}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A sigmoid head trained briefly on the demo digits 0/1, its gradients and sweep."""
    tmp = tmp_path_factory.mktemp("lossgrad")
    save_arrays(tmp / "mnist.npz", **make_demo_digits(seed=0))
    record = train_classifier(tmp / "mnist.npz", tmp / "m.pt", tmp / "m.json", tmp / "ckpt.pt",
                              classifier_type="sigmoid", num_classes=2, seed=0, epochs=2, batch_size=64,
                              test_batch_size=100, lr=1.0, gamma=0.7, arch=ARCH)
    compute_gradients(tmp / "mnist.npz", tmp / "m.pt", tmp / "g.npz", internal_batch_size=37)
    curves, signs, items = occlusion_sweep(
        tmp / "mnist.npz", tmp / "m.pt", tmp / "g.npz", variant="sigmoid2", seed=0,
        attribution_methods=["abs_grad", "grad_orig", "grad_inp", "random"],
        replacement_types=["mean", "image_min", "image_max"], roar=[1, 0], occlude_levels=[78, 392, 784],
        test_batch_size=50)
    return tmp, record, curves, signs, items


def test_parse_variant_round_trips():
    assert parse_variant("sigmoid2") == ("sigmoid", 2)
    assert variant_name(*parse_variant("softmax10")) == "softmax10"
    with pytest.raises(ValueError):
        parse_variant("sigmoid10")


def test_sigmoid_head_is_binary_only():
    with pytest.raises(ValueError, match="binary"):
        Net(num_classes=10, classifier_type="sigmoid")
    assert Net(2, "sigmoid", **ARCH)(torch.zeros(3, 1, 28, 28)).shape == (3,)
    assert Net(10, "softmax", **ARCH)(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_training_learns_and_removes_its_checkpoint(trained):
    tmp, record, _, _, _ = trained
    assert record["test_accuracy"] > 0.95
    assert read_json(tmp / "m.json")["history"][-1]["epoch"] == 2
    assert not (tmp / "ckpt.pt").exists()


def test_model_file_rebuilds_the_same_network(trained):
    tmp, record, _, _, _ = trained
    model = load_model(tmp / "m.pt")
    x, y = load_split(tmp / "mnist.npz", "test", 2)
    with torch.no_grad():
        accuracy = (torch.round(model(x)).long() == y).float().mean().item()
    assert accuracy == pytest.approx(record["test_accuracy"])


def test_gradient_cache_matches_a_fresh_per_sample_gradient(trained):
    tmp, _, _, _, _ = trained
    cache = load_arrays(tmp / "g.npz")
    model = load_model(tmp / "m.pt")
    x, y = load_split(tmp / "mnist.npz", "test", 2)
    i = 5
    xi = x[i : i + 1].clone().requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy(model(xi), y[i : i + 1].float())
    (g,) = torch.autograd.grad(loss, xi)
    np.testing.assert_allclose(cache["grads"][i], g[0, 0].numpy(), rtol=1e-4, atol=1e-8)


def test_gradient_cache_does_not_depend_on_batch_size(trained, tmp_path):
    tmp, _, _, _, _ = trained
    compute_gradients(tmp / "mnist.npz", tmp / "m.pt", tmp_path / "one.npz", internal_batch_size=1)
    np.testing.assert_allclose(load_arrays(tmp_path / "one.npz")["grads"], load_arrays(tmp / "g.npz")["grads"],
                               rtol=1e-4, atol=1e-8)


def test_k0_accuracy_equals_clean_accuracy_for_every_method(trained):
    _, record, curves, _, _ = trained
    at_zero = curves[curves.k == 0]
    assert len(at_zero) == 4 * 3 * 2
    assert (at_zero.accuracy == record["test_accuracy"]).all()


def test_occluding_every_pixel_erases_the_image(trained):
    _, _, curves, _, _ = trained
    # k=784 with the mean replacement gives every image the same input, hence one prediction
    full = curves[(curves.k == 784) & (curves.replacement == "mean")]
    assert full.accuracy.nunique() == 1


def test_sweep_runs_the_originals_other_rankings_and_replacements(trained):
    """dataset_min and custom at k=784 turn every image into one constant image: the accuracy
    is the share of test labels equal to the model's class for that image."""
    tmp, record, _, _, _ = trained
    curves, _, _ = occlusion_sweep(
        tmp / "mnist.npz", tmp / "m.pt", tmp / "g.npz", variant="sigmoid2", seed=0,
        attribution_methods=["inp", "abs_grad_abs_inp"], replacement_types=["dataset_min", "custom"],
        replacement_value=2.5, roar=[1], occlude_levels=[784], test_batch_size=50)
    model = load_model(tmp / "m.pt")
    _, y = load_split(tmp / "mnist.npz", "test", 2)
    for replacement, value in (("dataset_min", black_pixel(tmp / "mnist.npz")), ("custom", 2.5)):
        with torch.no_grad():
            label = int(torch.round(model(torch.full((1, 1, 28, 28), value))).item())
        full = curves[(curves.k == 784) & (curves.replacement == replacement)]
        assert len(full) == 2
        assert full.accuracy.tolist() == pytest.approx([float((y == label).float().mean())] * 2)
    assert (curves[curves.k == 0].accuracy == record["test_accuracy"]).all()


def test_sign_counts_cover_every_occluded_pixel(trained):
    _, _, curves, signs, _ = trained
    n = curves.n.iloc[0]
    totals = signs.groupby(["method", "order", "k"])[["grad_positive", "grad_negative", "grad_zero"]].sum().sum(axis=1)
    for (method, order, k), total in totals.items():
        assert total == n * k
    grad_orig_top = signs[(signs.method == "grad_orig") & (signs.order == 1) & (signs.k == 78)]
    grad_orig_bottom = signs[(signs.method == "grad_orig") & (signs.order == 0) & (signs.k == 78)]
    # ROAR=1 takes the most positive gradients first, ROAR=0 the most negative
    assert grad_orig_top.grad_positive.sum() > grad_orig_top.grad_negative.sum()
    assert grad_orig_bottom.grad_negative.sum() > grad_orig_bottom.grad_positive.sum()


def _synthetic_sweep(n=300, informative=True, seeds=(0, 1, 2), levels=(0, 78)):
    """A softmax10 sweep's tables and per-image items: grad_orig lowers every image's loss at
    k=78 (or, with ``informative=False``, moves it like the random ranking: noise around 0);
    at any larger level of ``levels`` it is uninformative."""
    rng = np.random.default_rng(0)
    rows, items = [], {}
    for seed in seeds:
        names, loss, correct = [], [], []
        clean_loss = rng.uniform(0.1, 0.5, n)
        clean_correct = rng.random(n) < 0.95
        for method in ("grad_orig", "random"):
            for replacement, order in (("mean", 1), ("mean", 0), ("image_min", 1), ("image_max", 0)):
                for k in levels:
                    if k == 0:
                        l, c = clean_loss, clean_correct
                    elif method == "grad_orig" and informative and k == 78:
                        l, c = clean_loss * 0.5, np.ones(n, bool)
                    else:
                        l, c = clean_loss + rng.normal(0.01, 0.05, n), clean_correct & (rng.random(n) < 0.97)
                    names.append(f"{method}|{replacement}|{order}|{k}")
                    loss.append(l)
                    correct.append(c)
                    rows.append(dict(variant="softmax10", seed=seed, method=method, replacement=replacement,
                                     order=order, k=k, accuracy=c.mean(), loss=l.mean()))
        items[("softmax10", seed)] = {"conditions": np.array(names), "loss": np.stack(loss),
                                      "correct": np.stack(correct), "control_correct": rng.random(n) < 0.1}
    roar = pd.DataFrame(rows)
    clean = roar[(roar.k == 0) & (roar.method == "random") & (roar.order == 1) & (roar.replacement == "mean")]
    models = clean.rename(columns={"accuracy": "test_accuracy", "loss": "test_loss"})[
        ["variant", "seed", "test_accuracy", "test_loss"]].reset_index(drop=True)
    return roar, models, items


def test_claims_pass_with_controls_when_the_gradient_lowers_every_loss():
    from xairepro.common.claims import broken_invariants, claims_only, failed_claims

    claims = mnist_claims(*_synthetic_sweep(), "demo")
    assert failed_claims(claims) == []
    assert broken_invariants(claims) == []
    assert (claims_only(claims).control != "").all()
    assert not claims_only(claims).control_pass.any()


def test_claims_are_decided_at_the_smallest_occlusion_level():
    # grad_orig helps at k=78 and is at chance at k=392: the claims read k=78, and pass
    from xairepro.common.claims import claims_only, failed_claims

    claims = mnist_claims(*_synthetic_sweep(levels=(0, 392, 78)), "demo")
    assert failed_claims(claims) == []
    occlusion = claims_only(claims)[claims_only(claims).claim.str.contains("loss-gradient occlusion")]
    assert len(occlusion) == 4 and occlusion.claim.str.contains("k=78").all()


def test_claims_fail_when_the_gradient_ranking_is_at_chance_level():
    from xairepro.common.claims import claims_only

    claims = claims_only(mnist_claims(*_synthetic_sweep(informative=False), "demo")).set_index("claim")
    occlusion = claims[claims.index.str.contains("loss-gradient occlusion")]
    assert len(occlusion) == 4 and (occlusion.verdict == "fail").all()
    assert claims.filter(like="accurate", axis=0).verdict.eq("pass").all()


def test_claims_table_flags_a_broken_invariant():
    from xairepro.common.claims import broken_invariants

    roar, models, items = _synthetic_sweep()
    models.loc[0, "test_accuracy"] -= 0.1
    assert broken_invariants(mnist_claims(roar, models, items, "demo")) == [
        "k=0 occlusion leaves accuracy unchanged (every method, replacement, order)"]


def test_sweep_items_match_the_curves_and_hold_the_randomised_control(trained):
    _, _, curves, _, items = trained
    assert items["loss"].shape == (len(curves), len(items["labels"]))
    np.testing.assert_allclose(items["loss"].mean(axis=1), curves.loss, rtol=1e-5)
    np.testing.assert_allclose(items["correct"].mean(axis=1), curves.accuracy)
    assert items["control_correct"].mean() < curves.accuracy.iloc[0] - 0.2  # the randomised net is near chance


def test_aggregate_sums_signs_over_seeds(trained, tmp_path):
    from xairepro.common.io import write_csv, write_json

    _, record, curves, signs, _ = trained
    paths = []
    for seed in (0, 1):
        write_csv(tmp_path / f"c{seed}.csv", curves.assign(seed=seed))
        write_csv(tmp_path / f"s{seed}.csv", signs.assign(seed=seed))
        write_json(tmp_path / f"m{seed}.json", dict(record, seed=seed))
        paths.append(seed)
    roar, table, models = aggregate_sweeps([tmp_path / f"c{s}.csv" for s in paths],
                                           [tmp_path / f"s{s}.csv" for s in paths],
                                           [tmp_path / f"m{s}.json" for s in paths])
    assert len(roar) == 2 * len(curves) and list(models.seed) == [0, 1]
    one = signs[(signs.method == "abs_grad") & (signs.order == 1) & (signs.k == 78)].grad_positive.sum()
    two = table[(table.method == "abs_grad") & (table.order == 1) & (table.k == 78)].grad_positive.sum()
    assert two == 2 * one
    shares = table[["grad_positive_share", "grad_negative_share", "grad_zero_share"]]
    assert shares.groupby([table.method, table.order, table.k]).sum().sum(axis=1).round(4).eq(1).all()
