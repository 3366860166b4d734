"""newstag inference: the label schema, page cleaning, the model and the ``Tagger``."""

from .errors import NewstagError
from .pages import Article, split_articles
from .schema import Schema, load_schema
from .tagger import Tagger, TagResult, TopicTag

__all__ = ["Article", "NewstagError", "Schema", "TagResult", "Tagger", "TopicTag", "load_schema", "split_articles"]
