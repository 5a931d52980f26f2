"""Rule labelfree_fit_disvae: one VAE ({loss}, {beta}) on {dataset} and its latent units'
saliency correlations. Calls :func:`xairepro.labelfree.steps.fit_and_explain`."""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import fit_and_explain

smk = snakemake_or_mock(globals(), "labelfree_fit_disvae", scale="demo", dataset="mnist", loss="beta_vae",
                        beta="1", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
wc = smk.wildcards
table = fit_and_explain(smk.input.data, smk.output.model, smk.output.record, smk.params.checkpoint,
                        dataset=wc.dataset, loss=wc.loss, beta=float(wc.beta), seed=int(wc.seed),
                        threads=smk.threads, **smk.params.fit)
write_csv(smk.output.correlations, table, stamp("labelfree", dict(smk.params.fit, loss=wc.loss, beta=wc.beta),
                                                int(wc.seed)))
