"""spacy-biobert: BioBERT for spaCy.

Importing the package registers every factory, architecture, reader and scorer; the same names are
entry points, so `spacy.load` of a packaged pipeline works without this import.
"""
from .about import __version__
from . import transformer  # noqa: F401
from . import relations  # noqa: F401
from . import biomed  # noqa: F401
from . import corpora  # noqa: F401
from .errors import BioBertError
from .quantize import quantize_pipeline  # noqa: F401
from . import token_ner  # noqa: F401
from .relations import Mention, Relation

__all__ = ["__version__", "BioBertError", "Mention", "Relation"]
