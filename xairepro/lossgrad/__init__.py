"""Study ``lossgrad``: loss-gradient attributions evaluated by ROAR/KAR occlusion.

Reproduces Subramanian et al., "Anomalous behaviour in loss-gradient based interpretability
methods" (ICLR 2021 RobustML workshop; extended as arXiv 2207.07769). Modules: ``data``
(demo digits generator and the paper MNIST loader), ``models`` (the MNIST ``Net``),
``mnist`` (training, gradients, the occlusion sweep, claims).
"""
