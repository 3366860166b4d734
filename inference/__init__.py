"""newstag inference: the label schema, page cleaning, the model and the ``Tagger``.

Importing it registers the "newstag" model type with transformers' ``AutoConfig`` and ``AutoModel`` and the
"newstag" task with ``transformers.pipeline`` (see ``inference.hf``).
"""

from . import hf
from .errors import NewstagError
from .pages import Article, split_articles
from .schema import Schema, load_schema
from .tagger import Tagger, TagResult, TopicTag

hf.install()

__all__ = ["Article", "NewstagError", "Schema", "TagResult", "Tagger", "TopicTag", "load_schema", "split_articles"]
