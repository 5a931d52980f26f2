"""Adding a study is one registry entry plus the study's own files (docs/adding-a-study.md).

The test writes a throw-away sixth study, `toy`, into a fresh copy of the workflow: a
generator that plants which feature drives the target, an explanation (least-squares
coefficients) and a claims table that checks the planted feature is recovered. It touches
no existing file but config/studies.yaml, and runs the study's DAG.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from tests.workflow.conftest import copy_workflow, jobs_of, snakemake
from xairepro.common.registry import study_names

pytestmark = pytest.mark.workflow

REGISTRY_ENTRY = """
  - name: toy
    title: A throw-away study that plants one relevant feature
"""

FILES = {
    "config/toy.yaml": """
        toy:
          data:
            n_features: 6
            planted: 2
            demo:
              n_samples: 60
              seed: 0
            paper:
              n_samples: 6000
              seed: 1
          explain:
            resources: {gpu: 0, threads: 1, mem_mb: 500, runtime: 5}
    """,
    "config/toy.schema.yaml": """
        description: Study toy, one planted feature recovered by least squares.
        type: object
        additionalProperties: false
        properties:
          data:
            description: The generated data, one block per scale.
            type: object
            additionalProperties: false
            properties:
              demo: {$ref: "#/$defs/toy_data"}
              paper: {$ref: "#/$defs/toy_data"}
          explain:
            description: The explanation job, one block per scale.
            type: object
            additionalProperties: false
            properties:
              demo: {$ref: "#/$defs/toy_explain"}
              paper: {$ref: "#/$defs/toy_explain"}
        $defs:
          toy_data:
            description: One scale of the generated data.
            type: object
            additionalProperties: false
            required: [n_features, planted, n_samples, seed]
            properties:
              n_features: {description: Features per sample., type: integer, minimum: 2}
              planted: {description: The one feature the target depends on., type: integer, minimum: 0}
              n_samples: {description: Samples drawn., type: integer, minimum: 10}
              seed: {description: Seed of the generator., type: integer}
          toy_explain:
            description: One scale of the explanation job.
            type: object
            additionalProperties: false
            required: [resources]
            properties:
              resources: {$ref: "#/$defs/resources"}
    """,
    "rules/toy.smk": '''
        # Study toy: generate -> explain -> claims.

        include: "toy_functions.smk"


        rule toy_generate_data:
            """Samples whose target depends on the planted feature only."""
            output:
                data="data/{scale}/toy/data.csv",
            params:
                data=setting("toy", "data"),
            script:
                "../scripts/toy/generate_data.py"


        rule toy_compute_coefficients:
            """Least-squares coefficients: the explanation of a linear model."""
            input:
                data=rules.toy_generate_data.output.data,
            output:
                coefficients="results/{scale}/toy/coefficients.csv",
            threads: job_threads("toy", "explain")
            resources:
                **job_resources("toy", "explain"),
            script:
                "../scripts/toy/compute_coefficients.py"


        rule toy_write_claims:
            """The planted feature has the largest coefficient."""
            input:
                coefficients=rules.toy_compute_coefficients.output.coefficients,
                data=rules.toy_generate_data.output.data,
            output:
                claims="results/{scale}/toy/claims.csv",
            params:
                planted=setting("toy", "data", "planted"),
            script:
                "../scripts/toy/write_claims.py"
    ''',
    "rules/toy_functions.smk": """
        def toy_targets(scale):
            return [f"results/{scale}/toy/claims.csv"]
    """,
    "envs/toy.yaml": """
        name: xairepro-toy
        channels: [conda-forge, nodefaults]
        dependencies:
          - python=3.11
          - pip
          - pip:
              - numpy==2.4.6
              - pandas==2.3.3
    """,
    "scripts/toy/generate_data.py": """
        import numpy as np
        import pandas as pd

        from xairepro.common.logs import setup_logging

        setup_logging(snakemake.log[0], snakemake.config["log_level"])
        cfg = snakemake.params.data
        rng = np.random.default_rng(cfg["seed"])
        x = rng.normal(size=(cfg["n_samples"], cfg["n_features"]))
        frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(cfg["n_features"])])
        frame["y"] = 3.0 * x[:, cfg["planted"]] + 0.1 * rng.normal(size=cfg["n_samples"])
        frame.to_csv(snakemake.output.data, index=False)
    """,
    "scripts/toy/compute_coefficients.py": """
        import numpy as np
        import pandas as pd

        from xairepro.common.logs import setup_logging

        setup_logging(snakemake.log[0], snakemake.config["log_level"])
        frame = pd.read_csv(snakemake.input.data)
        x, y = frame.drop(columns="y").to_numpy(), frame["y"].to_numpy()
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        # the negative control: the same fit on shuffled targets
        shuffled = np.random.default_rng(0).permutation(y)
        control, *_ = np.linalg.lstsq(x, shuffled, rcond=None)
        pd.DataFrame({"feature": range(x.shape[1]), "coefficient": coef, "control": control}).to_csv(
            snakemake.output.coefficients, index=False)
    """,
    "scripts/toy/write_claims.py": """
        import numpy as np
        import pandas as pd

        from xairepro.common.claims import Claims
        from xairepro.common.logs import setup_logging
        from xairepro.common.stats import binomial_above

        setup_logging(snakemake.log[0], snakemake.config["log_level"])
        coef = pd.read_csv(snakemake.input.coefficients)
        x = pd.read_csv(snakemake.input.data).drop(columns="y").to_numpy()
        planted = snakemake.params.planted

        def recovered(weights):
            top = np.abs(x * weights.to_numpy()).argmax(axis=1)
            return binomial_above(int((top == planted).sum()), len(x), 1 / x.shape[1])

        claims = Claims(digits=4)
        claims.claim("the planted feature has the largest attribution", "share of samples whose top |w x| is it",
                     "binomial p < 0.01 vs 1/n_features", recovered(coef.coefficient),
                     "fit on shuffled targets", recovered(coef.control))
        claims.frame().to_csv(snakemake.output.claims, index=False)
    """,
}


@pytest.fixture(scope="module")
def toy_workflow(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("toy"))
    with open(workdir / "config" / "studies.yaml", "a") as registry:
        registry.write(REGISTRY_ENTRY)
    for name, text in FILES.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return workdir


def test_a_sixth_study_runs_from_one_registry_entry_and_its_own_files(toy_workflow):
    assert study_names(toy_workflow)[-1] == "toy"
    # the default target and the study's aggregate rule both plan it
    everything = jobs_of(snakemake(toy_workflow, "-n", "--cores", "1").stdout)
    assert everything["toy_write_claims"] == 1 and everything["lossgrad_write_claims"] == 1
    snakemake(toy_workflow, "--cores", "1", "toy")
    claims = pd.read_csv(toy_workflow / "results/demo/toy/claims.csv")
    assert claims.verdict.tolist() == ["pass"] and claims.value[0] > 0.9 and not claims.control_pass[0]
    # the conventions of rules/common.smk gave every rule its log and benchmark
    for step in ("generate_data", "compute_coefficients", "write_claims"):
        assert (toy_workflow / f"logs/demo/toy/{step}.log").exists(), step
        assert (toy_workflow / f"benchmarks/demo/toy/{step}.tsv").exists(), step
    assert len(pd.read_csv(toy_workflow / "data/demo/toy/data.csv")) == 60


def test_a_sixth_study_reads_its_paper_values_at_paper_scale(toy_workflow):
    plan = snakemake(toy_workflow, "toy", "-n", "--cores", "1", "--config", "scale=paper").stdout
    assert jobs_of(plan) == {"toy_generate_data": 1, "toy_compute_coefficients": 1, "toy_write_claims": 1, "toy": 1}
    snakemake(toy_workflow, "data/paper/toy/data.csv", "--cores", "1", "--config", "scale=paper")
    assert len(pd.read_csv(toy_workflow / "data/paper/toy/data.csv")) == 6000


def test_a_value_missing_at_one_scale_stops_naming_it(toy_workflow, tmp_path):
    broken = copy_workflow(tmp_path / "broken")
    (broken / "config" / "studies.yaml").write_text((toy_workflow / "config" / "studies.yaml").read_text())
    for name in FILES:
        (broken / name).parent.mkdir(parents=True, exist_ok=True)
        (broken / name).write_text((toy_workflow / name).read_text())
    config = (broken / "config/toy.yaml").read_text().replace("      n_samples: 60\n", "")
    (broken / "config/toy.yaml").write_text(config)
    proc = snakemake(broken, "-n", "--cores", "1", "toy", check=False)
    assert proc.returncode != 0
    assert "'toy.data.demo' has no value for 'n_samples'" in proc.stdout
