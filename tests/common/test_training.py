"""The checkpointed training loop: a SIGKILLed run resumes and ends as an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import torch

from xairepro.common.io import save_torch
from xairepro.common.training import FAULT_ENV, train_epochs

TRAIN = textwrap.dedent(
    """
    import json, sys, torch
    from xairepro.common.training import train_epochs
    from xairepro.common.seeding import seed_everything

    seed_everything(0, threads=1)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 5, generator=gen)
    y = (x.sum(1) > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 2))
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)

    def run_epoch(epoch):
        model.train()
        for idx in torch.randperm(64, generator=gen).split(8):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return {"loss": loss.item()}

    result = train_epochs(model=model, optimizer=opt, scheduler=sched, epochs=5, run_epoch=run_epoch,
                          checkpoint_path=sys.argv[1], fingerprint="f1", generator=gen,
                          select_metric="loss", select_mode="min")
    print(json.dumps({"history": result.history, "resumed_from": result.resumed_from,
                      "weights": [p.detach().flatten().tolist() for p in model.parameters()]}))
    """
)


def run(checkpoint, fault=None):
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = str(fault)
    return subprocess.run([sys.executable, "-c", TRAIN, str(checkpoint)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_killed_training_resumes_from_checkpoint_with_identical_metrics(tmp_path):
    straight = run(tmp_path / "a.pt")
    assert straight.returncode == 0, straight.stderr
    reference = json.loads(straight.stdout)

    killed = run(tmp_path / "b.pt", fault=3)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "b.pt").exists()
    resumed = run(tmp_path / "b.pt")
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["resumed_from"] == 3
    assert [h["epoch"] for h in out["history"]] == [1, 2, 3, 4, 5]
    assert out["history"] == reference["history"]
    for a, b in zip(out["weights"], reference["weights"]):
        torch.testing.assert_close(torch.tensor(a), torch.tensor(b))


def test_checkpoint_of_other_settings_is_ignored(tmp_path, caplog):
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    save_torch(tmp_path / "c.pt", {"fingerprint": "other", "epoch": 4})
    epochs_run = []
    result = train_epochs(model=model, optimizer=opt, epochs=2, run_epoch=lambda e: epochs_run.append(e) or {},
                          checkpoint_path=tmp_path / "c.pt", fingerprint="mine")
    assert epochs_run == [0, 1] and result.resumed_from == 0
    assert "other settings" in caplog.text


def test_best_epoch_is_tracked(tmp_path):
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scores = [0.5, 0.9, 0.7]
    result = train_epochs(model=model, optimizer=opt, epochs=3, run_epoch=lambda e: {"valid": scores[e]},
                          checkpoint_path=tmp_path / "best.pt", fingerprint="x", select_metric="valid")
    assert result.best_epoch == 2 and result.best_state is not None
