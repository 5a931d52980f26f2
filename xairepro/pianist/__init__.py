"""Study ``pianist``: LIME and TCAV explanations of a jazz-pianist classifier on piano rolls
(Cheston, Bance & Harrison 2025, "Deconstructing Jazz Piano Style Using Machine Learning").

Modules: ``data`` (MIDI notes, piano rolls, harmony concepts, the demo corpus, the clip
loader, the paper archive), ``models``, ``train``, ``explain`` (:class:`~.explain.LimeRoll`,
:class:`~.explain.CavSensitivity`, :class:`~.explain.KernelOcclusion` and the CAV fit),
``steps`` (one function per workflow rule), ``tables`` (TCAV summary, claims), ``figures``.
"""
