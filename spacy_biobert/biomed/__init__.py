"""Biomedical text handling: scispaCy's tokenizer and sentence splitter, abbreviation detection
and propagation, and dictionary-based entity normalisation. scispaCy itself is imported only when
one of these components is built."""
from . import abbreviations, normalizer, propagation, sentences, tokenizer  # noqa: F401
from .abbreviations import BioAbbreviationDetector, abbreviation_pairs
from .dictionary import ConceptDictionary, canonical_id, normalize_name, read_vocabulary
from .normalizer import EntityNormalizer
from .propagation import AbbreviationPropagator
from .sentences import BioSentencizer

__all__ = [
    "BioAbbreviationDetector", "abbreviation_pairs", "ConceptDictionary", "canonical_id",
    "normalize_name", "read_vocabulary", "EntityNormalizer", "AbbreviationPropagator", "BioSentencizer",
]
