"""Set up the paper-scale smoke run (`make paper-smoke`, docs/paper-smoke.md).

    python scripts/smoke/setup.py DIR

writes, for every study of config/studies.yaml, tiny inputs in the originals' exact formats
under ``DIR/mirror/<study>/`` (served to the download rules as ``file://`` URLs) and any
file a user must place by hand under ``DIR/data/paper/``; then ``DIR/smoke.yaml``, the one
override of the paper configuration: ``config/smoke/*.yaml`` (the global ``smoke`` key and
each study's caps on epochs and items), merged with each study's mirror URLs and the
checksums of the files just written. The workflow then runs in ``DIR`` with
``--config scale=paper --configfile DIR/smoke.yaml``.

Each study's writer is ``scripts/smoke/<study>.py``, whose ``write_mirror(root)`` returns
that study's part of the override.

The published-weights pass (issue 22, docs/published-weights.md): a writer that also
defines ``write_published(root)`` writes checkpoint files in the originals' exact layouts
(served as ``file://`` mirrors or placed by hand) and returns the override that switches its
study to ``weights: published``, and lists in ``PUBLISHED_TARGETS`` the outputs (relative to
the run directory) that the second pass of ``make paper-smoke`` builds from those weights.
Their merge goes to ``DIR/smoke-published.yaml`` (applied on top of ``smoke.yaml``), the
targets to ``DIR/published-targets.txt``, one per line.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from xairepro.common.registry import study_names  # noqa: E402


def merge(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``, nested mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def writer(study: str):
    """``scripts/smoke/<study>.py`` as a module (the scripts folder is not a package)."""
    path = Path(__file__).with_name(f"{study}.py")
    spec = importlib.util.spec_from_file_location(f"smoke_{study}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup(root: Path, studies: list[str] | None = None) -> Path:
    """Write the mirrors of ``studies`` (default: all) under ``root``; return the override."""
    root = root.resolve()
    studies = studies or study_names(ROOT)
    override: dict = {}
    for name in ["smoke", *studies]:
        caps = ROOT / "config" / "smoke" / f"{name}.yaml"
        if caps.exists():
            override = merge(override, yaml.safe_load(caps.read_text()) or {})
    for study in studies:
        override = merge(override, writer(study).write_mirror(root))
    path = root / "smoke.yaml"
    path.write_text("# Written by scripts/smoke/setup.py: config/smoke/*.yaml and the mirrors' URLs.\n"
                    + yaml.safe_dump(override, sort_keys=False))
    published: dict = {}
    targets: list[str] = []
    for study in studies:
        module = writer(study)
        if hasattr(module, "write_published"):
            published = merge(published, module.write_published(root))
            targets += list(module.PUBLISHED_TARGETS)
    (root / "smoke-published.yaml").write_text(
        "# Written by scripts/smoke/setup.py: the studies switched to the originals' published\n"
        "# weights (checkpoints written by the smoke writers), on top of smoke.yaml.\n"
        + yaml.safe_dump(published, sort_keys=False))
    (root / "published-targets.txt").write_text("".join(f"{t}\n" for t in targets))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="where the mirrors, the hand-placed files and smoke.yaml go")
    parser.add_argument("--study", action="append", help="only this study (repeatable; default all)")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    print(setup(args.dir, args.study))


if __name__ == "__main__":
    main()
