"""Benchmark: loss gradients of SVD test excerpts, batched vs one excerpt at a time.

Not a workflow rule: run it after the demo (``make bench-svd``) or on any scale's outputs::

    python scripts/bench/svd_gradients.py --scale demo --n-excerpts 256 --batch-size 128

Loads the trained SVDNet and the cached spectrograms, then calls
:func:`xairepro.lossgrad.explain.benchmark_gradients`, which times the batched path of the
gradient rule and a batch-size-1 loop (the original's way) on the same excerpts and model,
and checks that both give the same gradients. Logs excerpts per second and the speed-up;
``--out`` also writes them as JSON.
"""

import argparse

from xairepro.common.io import write_json
from xairepro.common.logs import setup_logging
from xairepro.common.seeding import seed_everything
from xairepro.lossgrad.data import load_excerpts
from xairepro.lossgrad.explain import benchmark_gradients
from xairepro.lossgrad.train import load_svd_model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--scale", default="demo", choices=["demo", "paper"])
parser.add_argument("--n-excerpts", type=int, default=256, help="test excerpts to differentiate (default 256)")
parser.add_argument("--batch-size", type=int, default=32, help="batched path's batch size (default 32)")
parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
parser.add_argument("--seed", type=int, default=0, help="the SVDNet's seed (svd.seeds; default 0)")
parser.add_argument("--out", help="optional JSON file for the numbers")
args = parser.parse_args()

log = setup_logging(None)
seed_everything(0, args.threads)
data = f"data/{args.scale}/jamendo"
model = load_svd_model(f"results/{args.scale}/lossgrad/svd/seed{args.seed}/model.pt")
excerpts, labels = load_excerpts(f"{data}/spectrograms.npz", f"{data}/znorm.npz", "test")
result = benchmark_gradients(model, excerpts, labels, args.batch_size, args.n_excerpts)
log.info("%d excerpts: batched (batch %d) %.1f excerpts/s, batch size 1 %.1f excerpts/s, speed-up %.1fx, "
         "max |difference| %.2g", result["n_excerpts"], result["batch_size"], result["batched_excerpts_per_s"],
         result["batch1_excerpts_per_s"], result["speedup"], result["max_abs_diff"])
if args.out:
    write_json(args.out, result)
