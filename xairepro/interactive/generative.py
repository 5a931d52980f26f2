"""Generative explanations (generative_exp.py): latent dataset, latent models, canvases.

* demo generator: :func:`train_generator` fits the :class:`~xairepro.interactive.models.DemoGenerator`
  as the decoder of an autoencoder of the procedural faces (MSE, Gaussian noise on the
  codes for a smooth latent space) and then fits its mapping to the encoded codes.
* phase 1, :func:`create_latent_dataset`: z ~ N(0, I), w = mapping(z), truncation
  w = w_avg + psi (w - w_avg) (the original computes w_avg + psi (w + w_avg): a sign bug,
  fixed here, the size of the difference recorded), images synthesised and scored by
  each attribute classifier (soft label = sigmoid of the logit); w[:, 0] is stored.
* phase 2, :func:`train_latent_model`: logistic regression Linear(w_dim, 1) on the latent
  codes, BCE on the soft labels, Adam 3e-4, batch 100.
* phase 3, :func:`explain_images`: project each input image into w (Adam on w from w_avg,
  pixel MSE, or VGG16-feature MSE at paper scale instead of the original's LPIPS), move
  along ``||w|| beta / ||beta||`` by ``linspace(-ampl, ampl, steps)``, render and score
  every frame with the evaluated classifier (and with the direction's own classifier).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.io import atomic_path, load_arrays, load_torch, save_arrays, save_torch, write_csv, write_json
from xairepro.common.logs import progress
from xairepro.common.seeding import seed_everything
from xairepro.common.training import fit_and_save, minibatches, train_epochs
from xairepro.common.provenance import config_hash
from xairepro.interactive import data as D
from xairepro.interactive.classifier import constant_bce, load_classifier
from xairepro.interactive.models import DemoGenerator, Encoder, load_generator

log = logging.getLogger(__name__)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> [0, 1] (the original's ``(0.5 * I + 0.5).clamp(0, 1)``)."""
    return (0.5 * images + 0.5).clamp(0, 1)


def classifier_input(images01: torch.Tensor, size: int) -> torch.Tensor:
    """[0, 1] images (N, 3, R, R) -> the classifier's normalised input at ``size``, quantised
    to 8 bits as the original's round trip through PIL."""
    x = (images01 * 255).round() / 255
    if x.shape[-1] != size:
        x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(D.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(D.IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """StyleGAN's truncation trick, w_avg + psi (w - w_avg)."""
    return w_avg + psi * (w - w_avg)


def truncate_original(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """The original's line, w_avg + psi (w + w_avg): kept only to measure the deviation."""
    return w_avg + psi * (w + w_avg)


# --------------------------------------------------------------------------- demo generator
def train_generator(root: str | Path, model_path: str | Path, metrics_path: str | Path, checkpoint_path: str | Path,
                    *, size: int, z_dim: int, channels: int, epochs: int, batch_size: int, lr: float,
                    latent_noise: float, seed: int = 0, threads: int | None = None) -> dict:
    """Train the demo generator on every procedural face (see the module docstring)."""
    seed_everything(seed, threads)
    table = D.read_celeb_annotations(root)
    images = np.stack([D.read_image(Path(root) / D.CELEB_IMG_DIR / n, size) for n in table.index])
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1  # (N, 3, R, R) in [-1, 1]
    generator = DemoGenerator(z_dim=z_dim, img_resolution=size, channels=channels)
    encoder = Encoder(z_dim, size, channels)
    both = nn.ModuleDict({"generator": generator, "encoder": encoder})
    optimizer = torch.optim.Adam(both.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        both.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, rng):
            codes = encoder(x[idx])
            codes = codes + latent_noise * torch.randn(codes.shape, generator=rng)
            ws = codes[:, None].repeat(1, generator.num_ws, 1)
            loss = nn.functional.mse_loss(generator.synthesis(ws), x[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        return {"reconstruction_mse": total / len(x)}

    params = {"size": size, "z_dim": z_dim, "channels": channels, "epochs": epochs, "batch_size": batch_size,
              "lr": lr, "latent_noise": latent_noise, "seed": seed}
    result = train_epochs(model=both, optimizer=optimizer, epochs=epochs, run_epoch=run_epoch,
                          checkpoint_path=checkpoint_path, fingerprint=config_hash(
                              dict(params, data=_fingerprint(Path(root) / D.CELEB_ANNO))), generator=rng)
    with torch.no_grad():
        both.eval()
        codes = torch.cat([encoder(x[i:i + 256]) for i in range(0, len(x), 256)])
        generator.mapping.fit(codes)
        recon = generator.synthesis(codes[:, None].repeat(1, generator.num_ws, 1))
        mse = nn.functional.mse_loss(recon, x).item()
    save_torch(model_path, {"state_dict": generator.state_dict(), "z_dim": z_dim, "img_resolution": size,
                            "channels": channels})
    record = {"reconstruction_mse": mse, "n_images": len(x), "num_ws": generator.num_ws,
              "resumed_from_epoch": result.resumed_from, "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("demo generator: reconstruction MSE %.4f on %d faces", mse, len(x))
    return record


def _fingerprint(path: Path) -> str:
    from xairepro.common.training import file_fingerprint

    return file_fingerprint(path)


# --------------------------------------------------------------------------- phase 1
@torch.no_grad()
def create_latent_dataset(generator: nn.Module, classifiers: dict[str, nn.Module], out_path: str | Path, *,
                          n_train: int, n_valid: int, psi: float, gen_bs: int, classifier_size: int,
                          seed: int = 0) -> dict:
    """Phase 1: latent codes w (N, w_dim) and each classifier's logit on the image of w.

    Writes ``w_train``, ``w_valid`` and ``logit_<attr>_train`` / ``_valid`` (soft labels
    are their sigmoid) and returns a record including the truncation deviation.
    """
    rng = torch.Generator().manual_seed(seed)
    w_avg = generator.mapping.w_avg.detach().cpu()
    out: dict[str, np.ndarray] = {}
    deviation = []
    for split, n in (("train", n_train), ("valid", n_valid)):
        ws, logits = [], {a: [] for a in classifiers}
        for start in progress(range(0, n, gen_bs), desc=f"latent {split}"):
            z = torch.randn(min(gen_bs, n - start), generator.z_dim, generator=rng)
            w = generator.mapping(z, None)  # (B, num_ws, w_dim)
            fixed = truncate(w, w_avg, psi)
            deviation.append((truncate_original(w, w_avg, psi) - fixed)[:, 0].norm(dim=1) / fixed[:, 0].norm(dim=1))
            images = to_unit(generator.synthesis(fixed, noise_mode="const"))
            x = classifier_input(images, classifier_size)
            for attr, model in classifiers.items():
                logits[attr].append(model(x).flatten())
            ws.append(fixed[:, 0])
        out[f"w_{split}"] = torch.cat(ws).numpy()
        for attr in classifiers:
            out[f"logit_{attr}_{split}"] = torch.cat(logits[attr]).numpy()
    save_arrays(out_path, **out, attrs=np.array(list(classifiers)))
    dev = torch.cat(deviation)
    record = {"psi": psi, "n_train": n_train, "n_valid": n_valid,
              "truncation": "w_avg + psi * (w - w_avg)",
              "original_truncation": "w_avg + psi * (w + w_avg)",
              "original_relative_deviation_mean": float(dev.mean()),
              "label_means": {a: float(torch.sigmoid(torch.from_numpy(out[f"logit_{a}_train"])).mean())
                              for a in classifiers}}
    log.info("latent dataset: %d train / %d valid codes; the original's truncation would move w by %.2f x ||w||",
             n_train, n_valid, record["original_relative_deviation_mean"])
    return record


# --------------------------------------------------------------------------- phase 2
def latent_quality(logits: torch.Tensor, soft: torch.Tensor) -> dict[str, float]:
    """The original's eval_model: BCE and accuracy vs a constant baseline (soft labels rounded
    for accuracy). The baseline BCE predicts the mean label (the original fed the mean in as
    a logit; that number is kept as ``baseline_bce_original``)."""
    bce = nn.functional.binary_cross_entropy_with_logits(logits, soft).item()
    acc = (logits.sigmoid().round() == soft.round()).float().mean().item()
    rounded = soft.round().mean().item()
    return {"valid_bce": bce, "valid_acc": acc, "baseline_bce": constant_bce(soft),
            "baseline_bce_original": nn.functional.binary_cross_entropy_with_logits(
                soft.mean() * torch.ones_like(soft), soft).item(),
            "baseline_acc": max(rounded, 1 - rounded)}


def train_latent_model(dataset_path: str | Path, attr: str, model_path: str | Path, metrics_path: str | Path,
                       checkpoint_path: str | Path, *, epochs: int, batch_size: int, lr: float, seed: int = 0,
                       threads: int | None = None) -> dict:
    """Phase 2: the latent logistic regression of one attribute (resumable per epoch)."""
    seed_everything(seed, threads)
    arrays = load_arrays(dataset_path, required=("w_train", "w_valid", f"logit_{attr}_train"))
    w_train, w_valid = torch.from_numpy(arrays["w_train"]), torch.from_numpy(arrays["w_valid"])
    y_train = torch.sigmoid(torch.from_numpy(arrays[f"logit_{attr}_train"]))
    y_valid = torch.sigmoid(torch.from_numpy(arrays[f"logit_{attr}_valid"]))
    model = nn.Linear(w_train.shape[1], 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        total = 0.0
        for idx in minibatches(len(w_train), batch_size, rng):
            loss = nn.functional.binary_cross_entropy_with_logits(model(w_train[idx]).flatten(), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        with torch.no_grad():
            quality = latent_quality(model(w_valid).flatten(), y_valid)
        return {"train_bce": total / len(w_train), **quality}

    params = {"attr": attr, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=dataset_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"attr": attr, "w_dim": int(w_train.shape[1])},
                             summary=lambda r: {"attr": attr, **{k: v for k, v in r.history[-1].items()
                                                                 if k != "epoch"}}, generator=rng)
    log.info("latent model %s: valid BCE %.3f (baseline %.3f), acc %.3f (baseline %.3f)", attr, record["valid_bce"],
             record["baseline_bce"], record["valid_acc"], record["baseline_acc"])
    return record


def load_latent_direction(path: str | Path) -> torch.Tensor:
    """beta (w_dim,), the weight of a trained latent logistic regression."""
    return load_torch(path)["state_dict"]["weight"].flatten()


# --------------------------------------------------------------------------- phase 3
class _VGGFeatures(nn.Module):
    """VGG16 (ImageNet) conv features as a perceptual distance (paper scale stand-in for LPIPS)."""

    def __init__(self):
        super().__init__()
        from torchvision.models import VGG16_Weights, vgg16

        self.features = vgg16(weights=VGG16_Weights.IMAGENET1K_V1).features[:16].eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, images01: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(images01, size=(256, 256), mode="area") if images01.shape[-1] > 256 else images01
        mean = torch.tensor(D.IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(D.IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        return self.features((x - mean) / std)


def project(generator: nn.Module, targets01: torch.Tensor, *, num_steps: int, initial_learning_rate: float = 0.1,
            loss: str = "pixel", lr_rampdown_length: float = 0.25, lr_rampup_length: float = 0.05) -> torch.Tensor:
    """Project images into w, all at once (each image's loss is independent).

    Follows NVlabs' projector: start from w_avg, Adam with a cosine ramp-down of the learning
    rate; the loss is pixel MSE (``"pixel"``) or VGG16-feature MSE (``"vgg16"``) instead of
    LPIPS. targets01: (N, 3, R, R) in [0, 1]. Returns w (N, w_dim).
    """
    features = _VGGFeatures().to(targets01.device) if loss == "vgg16" else None
    w = generator.mapping.w_avg.detach().clone()[None].repeat(len(targets01), 1).requires_grad_(True)
    optimizer = torch.optim.Adam([w], lr=initial_learning_rate, betas=(0.9, 0.999))
    target_features = features(targets01) if features is not None else None
    for step in progress(range(num_steps), desc="projection"):
        t = step / max(1, num_steps)
        ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
        ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
        ramp = ramp * min(1.0, t / lr_rampup_length) if lr_rampup_length else ramp
        for group in optimizer.param_groups:
            group["lr"] = initial_learning_rate * max(ramp, 1e-3)
        images = to_unit(generator.synthesis(w[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
        if features is not None:
            dist = (features(images) - target_features).pow(2).flatten(1).mean(1).sum()
        else:
            dist = (images - targets01).pow(2).flatten(1).mean(1).sum()
        optimizer.zero_grad(set_to_none=True)
        dist.backward()
        optimizer.step()
    return w.detach()


@torch.no_grad()
def move_and_render(generator: nn.Module, w: torch.Tensor, beta: torch.Tensor, *, ampl: float, steps: int,
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames along the direction: w + g ||w|| beta / ||beta||, g in linspace(-ampl, ampl, steps).

    w: (N, w_dim). Returns (grid (steps,), frames (N, steps, 3, R, R) in [0, 1]).
    """
    grid = torch.linspace(-ampl, ampl, steps)
    alpha = w.norm(dim=1, keepdim=True) * beta[None] / beta.norm()  # (N, w_dim)
    latents = w[:, None] + grid[None, :, None] * alpha[:, None]  # (N, steps, w_dim)
    flat = latents.reshape(-1, latents.shape[-1])
    frames = to_unit(generator.synthesis(flat[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
    return grid, frames.reshape(len(w), steps, *frames.shape[1:])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    if np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def explain_images(generator: nn.Module, eval_attr: str, classifiers: dict[str, nn.Module],
                   directions: dict[str, torch.Tensor], images: np.ndarray, names: np.ndarray, out_npz: str | Path,
                   out_csv: str | Path, *, classifier_size: int, reconstruction_steps: int,
                   initial_learning_rate: float, projection_loss: str, ampl: float, steps: int,
                   provenance: dict | None = None) -> pd.DataFrame:
    """Phase 3 for every input image and direction: projection, frames and their scores.

    images: uint8 (N, H, W, 3). The table has one row per direction, image and step with
    the evaluated classifier's logit and the direction's own classifier's logit.
    """
    res = generator.img_resolution
    targets = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    if targets.shape[-1] != res:
        targets = nn.functional.interpolate(targets, size=(res, res), mode="bilinear", align_corners=False)
    w = project(generator, targets, num_steps=reconstruction_steps, initial_learning_rate=initial_learning_rate,
                loss=projection_loss)
    with torch.no_grad():
        recon = to_unit(generator.synthesis(w[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
    rows, all_frames, eval_logits = [], [], []
    for attr, beta in directions.items():
        grid, frames = move_and_render(generator, w, beta, ampl=ampl, steps=steps)
        x = classifier_input(frames.flatten(0, 1), classifier_size)
        with torch.no_grad():
            logit_eval = classifiers[eval_attr](x).view(len(w), steps).numpy()
            logit_own = classifiers[attr](x).view(len(w), steps).numpy() if attr in classifiers else logit_eval
        for i in range(len(w)):
            for s in range(steps):
                rows.append({"eval_attr": eval_attr, "direction": attr, "image": str(names[i]), "step": s,
                             "shift": float(grid[s]), "eval_logit": float(logit_eval[i, s]),
                             "own_logit": float(logit_own[i, s])})
        all_frames.append((frames.permute(0, 1, 3, 4, 2) * 255).round().byte().numpy())
        eval_logits.append(logit_eval)
    table = pd.DataFrame(rows)
    save_arrays(out_npz, frames=np.stack(all_frames), grid=grid.numpy(), eval_logits=np.stack(eval_logits),
                directions=np.array(list(directions)), names=np.asarray(names, dtype=str), inputs=images,
                reconstructions=(recon.permute(0, 2, 3, 1) * 255).round().byte().numpy(), eval_attr=np.array(eval_attr))
    write_csv(out_csv, table, provenance)
    mono = monotonicity(table)
    log.info("phase 3 (%s): mean Spearman of own score along each direction %s", eval_attr,
             mono.set_index("direction")["spearman_own"].round(3).to_dict())
    return table


def monotonicity(table: pd.DataFrame, tol: float = 0.5) -> pd.DataFrame:
    """Per direction, over the images: how the own score follows the move.

    * ``rising_share``: share of images whose own logit is higher at +ampl than at -ampl;
    * ``nonfalling_share``: share of steps (all images) where the own logit falls by no
      more than ``tol`` logits, so noise on a saturated plateau (|logit| ~ 10, where 0.1
      logit is a 1e-5 change of probability) is not read as a reversal;
    * ``spearman_own`` / ``spearman_eval``: mean Spearman correlation of the shift with the
      own / evaluated logit (descriptive: it ranks that plateau noise too);
    * ``strictly_increasing``: share of images whose own logit rises at every step.
    """
    rows = []
    for (direction, image), g in table.groupby(["direction", "image"], sort=False):
        g = g.sort_values("step")
        own = g["own_logit"].to_numpy()
        steps = np.diff(own)
        rows.append({"direction": direction, "image": image,
                     "spearman_own": spearman(g["shift"].to_numpy(), own),
                     "spearman_eval": spearman(g["shift"].to_numpy(), g["eval_logit"].to_numpy()),
                     "strictly_increasing": bool(np.all(steps > 0)),
                     "rises": bool(own[-1] > own[0]),
                     "nonfalling_steps": int(np.sum(steps >= -tol)), "n_steps": len(steps),
                     "own_change": float(own[-1] - own[0])})
    per_image = pd.DataFrame(rows)
    out = per_image.groupby("direction", sort=False).agg(
        n_images=("image", "size"), rising_share=("rises", "mean"), nonfalling=("nonfalling_steps", "sum"),
        n_steps=("n_steps", "sum"), spearman_own=("spearman_own", "mean"), spearman_eval=("spearman_eval", "mean"),
        strictly_increasing=("strictly_increasing", "mean"), own_change=("own_change", "mean")).reset_index()
    out.insert(3, "nonfalling_share", out.pop("nonfalling") / out.pop("n_steps"))
    return out.assign(tol=tol)


def draw_canvas(frames: np.ndarray, logits: np.ndarray, *, hw: int, mult: float = 0.25, buffer: int = 20):
    """The original's ``to_canvas``: frames side by side under a header band with the
    evaluated score tanh(mult * logit) as text and as a green (> 0) / red (< 0) bar.

    frames: uint8 (steps, H, W, 3); logits: (steps,). Returns a PIL image.
    """
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (hw * len(frames), 2 * buffer + hw))
    draw = ImageDraw.Draw(canvas)
    for i, (frame, logit) in enumerate(zip(frames, logits)):
        score = math.tanh(mult * float(logit))
        canvas.paste(Image.fromarray(frame).resize((hw, hw), Image.BICUBIC), (i * hw, 2 * buffer))
        color = (0, int(255 * score), 0) if score > 0 else (int(-255 * score), 0, 0)
        draw.rectangle([i * hw, 0, (i + 1) * hw, buffer], fill=(255, 255, 255))
        draw.rectangle([i * hw, buffer, (i + 1) * hw, 2 * buffer], fill=color)
        draw.text((i * hw + int(0.4 * hw), 5), f"{score:.2f}", fill=color if score != 0 else (0, 0, 0))
    return canvas


def plot_canvases(npz_path: str | Path, figure_path: str | Path, *, hw: int = 96, mult: float = 0.25,
                  buffer: int = 20, label_width: int = 110) -> None:
    """Every canvas of one evaluated classifier in one image: a block per direction, a row per input."""
    from PIL import Image, ImageDraw

    arrays = load_arrays(npz_path, required=("frames", "eval_logits", "directions", "names"))
    frames, logits = arrays["frames"], arrays["eval_logits"]  # (D, N, steps, H, W, 3), (D, N, steps)
    n_dir, n_img, steps = logits.shape
    row_h = 2 * buffer + hw
    sheet = Image.new("RGB", (label_width + hw * (steps + 1), row_h * n_dir * n_img), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for d in range(n_dir):
        for i in range(n_img):
            top = (d * n_img + i) * row_h
            draw.text((5, top + row_h // 2 - 12), f"move {arrays['directions'][d]}", fill=(0, 0, 0))
            draw.text((5, top + row_h // 2 + 2), f"{arrays['names'][i]}", fill=(90, 90, 90))
            if "inputs" in arrays:
                sheet.paste(Image.fromarray(arrays["inputs"][i]).resize((hw, hw), Image.BICUBIC),
                            (label_width, top + 2 * buffer))
            sheet.paste(draw_canvas(frames[d, i], logits[d, i], hw=hw, mult=mult, buffer=buffer),
                        (label_width + hw, top))
    with atomic_path(figure_path) as tmp:
        sheet.save(tmp, format="PNG")


def load_generative_inputs(generator_path: str | Path, stylegan2_code: str | None = None,
                           allow_pickle: bool = False) -> nn.Module:
    """The generator with its parameters frozen (phases 1 and 3 only read it)."""
    generator = load_generator(generator_path, stylegan2_code, allow_pickle)
    for p in generator.parameters():
        p.requires_grad_(False)
    return generator


def load_classifiers(paths: dict[str, str | Path]) -> dict[str, nn.Module]:
    """Attribute -> trained classifier (eval mode, parameters frozen)."""
    out = {}
    for attr, path in paths.items():
        model = load_classifier(path)
        for p in model.parameters():
            p.requires_grad_(False)
        out[attr] = model
    return out


def phase3_inputs(root: str | Path, attr: str, *, size: int, n_input_imgs: int, split_seed: int, ratio: float,
                  input_img_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images to explain: every image in ``input_img_dir``, or the first validation
    images of the evaluated attribute (half of each class)."""
    if input_img_dir:
        paths = sorted(p for p in Path(input_img_dir).iterdir() if p.is_file())
        return np.stack([D.read_image(p, size) for p in paths]), np.array([p.name for p in paths])
    split = D.load_celeb_attribute(root, attr, size, split_seed=split_seed, ratio=ratio, splits=("valid",))
    y = split["y_valid"]
    half = max(1, n_input_imgs // 2)
    idx = np.concatenate([np.flatnonzero(y == 0)[:half], np.flatnonzero(y == 1)[:n_input_imgs - half]])
    return split["x_valid"][idx], split["names_valid"][idx]
