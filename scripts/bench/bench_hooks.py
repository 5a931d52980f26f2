"""Find each study's benchmark hooks: ``scripts/bench/studies/<study>.py``, by path.

The hooks are not part of the library (they build paper-shaped models on synthetic data
only to time them), so they live beside the runners and are loaded from their file, not
imported from ``xairepro``. ``run.py`` and ``gpu.py`` import this module from their own
folder (Python puts a script's folder first on ``sys.path``); the tests load it by path.

A hook module has ``kernels(device)``: a list of dicts with ``name``, ``n`` (samples per
call), ``batched`` (the project's batched path over the n samples), ``reference`` (the
originals' one-sample-at-a-time pattern on the same model and samples, or None) and
``fwd_bwd`` (the model's own batched forward + backward on the same batch, or None: the
practical bound for gradient methods); and ``paper_epoch(device, max_batches)``: rows
``{name, seconds, batches, timed_batches, published_seconds}`` for one training epoch of
each paper-shaped model on synthetic data, timed with
:func:`xairepro.common.bench.epoch_seconds`. :func:`xairepro.common.bench.kernel_rows`
times the kernels; :func:`xairepro.common.bench.markdown_table` renders any rows.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

HOOKS = Path(__file__).resolve().parent / "studies"


def hook_path(study: str) -> Path:
    """Where the hooks of ``study`` live."""
    return HOOKS / f"{study}.py"


def load_hook(study: str) -> ModuleType:
    """The hook module of ``study``, loaded from :func:`hook_path` once per process (as
    module ``xairepro_bench_<study>``). Raises FileNotFoundError when it has none."""
    name = f"xairepro_bench_{study}"
    if name in sys.modules:
        return sys.modules[name]
    path = hook_path(study)
    if not path.is_file():
        raise FileNotFoundError(f"{study} has no benchmark hooks ({path})")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def study_benches(studies: Sequence[str]) -> Iterator[tuple[str, ModuleType]]:
    """``(study, module)`` for every study of ``studies`` that has hooks; a study without
    any is logged and skipped."""
    for study in studies:
        if not hook_path(study).is_file():
            logging.getLogger(__name__).warning("%s has no benchmark hooks (%s)", study, hook_path(study))
            continue
        yield study, load_hook(study)
