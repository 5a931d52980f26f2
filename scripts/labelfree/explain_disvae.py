"""Rule labelfree_explain_disvae: one of FACT's published VAEs ({loss}, {beta}, run {seed}) on
{dataset} and its latent units' saliency correlations, the table labelfree_fit_disvae writes
for a VAE trained here. Calls :func:`xairepro.labelfree.steps.explain_published_vae`."""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import explain_published_vae

smk = snakemake_or_mock(globals(), "labelfree_explain_disvae", scale="paper", dataset="mnist", loss="beta_vae",
                        beta="1", seed="1")
setup_logging(smk.log[0], smk.config["log_level"])
wc = smk.wildcards
table = explain_published_vae(smk.input.data, smk.input.model, dataset=wc.dataset, loss=wc.loss, beta=float(wc.beta),
                              seed=int(wc.seed), threads=smk.threads, **smk.params.explain)
write_csv(smk.output.correlations, table, stamp("labelfree", dict(smk.params.explain, loss=wc.loss, beta=wc.beta,
                                                                  published=True), int(wc.seed)))
