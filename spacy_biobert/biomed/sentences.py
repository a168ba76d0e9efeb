"""scispaCy's sentence splitter (pySBD with scispaCy's biomedical abbreviation list) as a
registered component, so a config can name it without importing scispaCy by hand."""
from spacy.language import Language
from spacy.tokens import Doc


class BioSentencizer:
    """Sets `token.is_sent_start` with scispaCy's pySBD-based splitter: it does not split after
    abbreviations such as "e.g.", "i.v.", "Fig." or "et al.", nor inside numbers like "2.5 mg"."""

    def __init__(self, name: str = "biobert_sentencizer") -> None:
        self.name = name
        self._split = None

    def __call__(self, doc: Doc) -> Doc:
        if self._split is None:
            # Deferred: scispaCy and pySBD are only needed once the component runs.
            from scispacy.custom_sentence_segmenter import pysbd_sentencizer

            self._split = pysbd_sentencizer
        if len(doc) == 0:
            return doc
        return self._split(doc)


@Language.factory("biobert_sentencizer", requires=[], assigns=["token.is_sent_start"])
def make_biobert_sentencizer(nlp: Language, name: str) -> BioSentencizer:
    """scispaCy's pySBD sentence splitter.

    nlp (Language): The pipeline.
    name (str): The component name.
    RETURNS (BioSentencizer): The component.
    """
    return BioSentencizer(name)
