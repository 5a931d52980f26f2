"""Study ``lossgrad``: loss-gradient attributions evaluated by ROAR/KAR occlusion.

Reproduces Subramanian et al., "Anomalous behaviour in loss-gradient based interpretability
methods" (ICLR 2021 RobustML workshop; extended as arXiv 2207.07769), on MNIST and on
singing-voice detection. Modules: ``data`` (demo digits and the paper MNIST loader; the
generated and the Jamendo singing-voice corpora, log-mel spectrograms and excerpts),
``models`` (the MNIST ``Net`` and ``SVDNet``, their losses), ``train`` (training and
reloading both), ``explain`` (the loss-gradient explainers), ``steps`` (gradient caches,
occlusion sweeps, SVD evaluation), ``tables`` (aggregates and claims), ``figures``.
"""
