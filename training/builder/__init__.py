"""The dataset builder (``newstag-build``): pages to a labeled, deduplicated, split dataset folder."""
