"""newstag training: the dataset builder, fine-tuning and evaluation (imports ``inference``, never the reverse)."""
