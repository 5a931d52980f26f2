"""Rule pianist_generate_data: the demo corpus (performer clips, split tables, concept MIDIs,
truth.json), or with ``pianist.user_data.path`` set the user's clips, checked up front and
converted to the same files (truth.json without planted concepts). Calls
:func:`xairepro.pianist.data.generate_demo` or :func:`xairepro.pianist.user_data.import_user_data`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.data import generate_demo
from xairepro.pianist.user_data import import_user_data

smk = snakemake_or_mock(globals(), "pianist_generate_data")
setup_logging(smk.log[0], smk.config["log_level"])
demo = smk.params.demo
if smk.params.user_data:
    import_user_data(out=smk.params.root, concepts=demo["concepts"], concept_files=demo["concept_files"],
                     clip_seconds=demo["clip_seconds"], seed=demo["seed"], **smk.params.user_data)
else:
    generate_demo(smk.params.root, **demo)
