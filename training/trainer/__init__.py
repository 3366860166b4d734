"""The trainer (``newstag-train``, ``newstag-eval``): fine-tuning, calibration and evaluation of a tagger."""
