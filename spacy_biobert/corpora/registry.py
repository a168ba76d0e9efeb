"""Registered spaCy readers, so a training config reads the raw corpus files directly:

    [corpora.train]
    @readers = "spacy-biobert.PubTatorCorpus.v1"
    path = "corpus/CDR_TrainingSet.PubTator.txt"
    max_sentences = 5     # cut documents into groups of 5 sentences for training
    limit = 0

    [corpora.dev]
    @readers = "spacy-biobert.PubTatorCorpus.v1"
    path = "corpus/CDR_DevelopmentSet.PubTator.txt"
    # max_sentences = null: evaluate on whole documents

Each returns a callable `nlp -> Iterator[Example]` (like `spacy.Corpus.v1`): the reference doc is
the converted document (mentions in `spans["sc"]` and `ents`, sentences, `doc._.relations`), the
predicted doc is `nlp.make_doc(text)`.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Union

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

from .docbuilder import split_into_sentence_groups
from .stats import CorpusError


class BioCorpus:
    """Iterate over the Examples of a corpus file (or folder) in one of the supported formats.

    format (str): One of `spacy_biobert.corpora.FORMATS`.
    path (Union[str, Path]): The input file or folder.
    limit (int): Stop after this many documents (0: all).
    max_sentences (Optional[int]): Cut each document into groups of at most this many sentences
        (relations kept when both ends fall in a group); None keeps whole documents.
    skip_invalid (bool): Skip invalid records instead of raising.
    options (Optional[Dict[str, Any]]): Extra keyword arguments for the format's reader.
    """

    def __init__(
        self,
        format: str,
        path: Union[str, Path],
        *,
        limit: int = 0,
        max_sentences: Optional[int] = None,
        skip_invalid: bool = False,
        options: Optional[Dict[str, Any]] = None,
    ) -> None:
        if max_sentences is not None and max_sentences < 1:
            raise CorpusError("E112", "invalid_setting", name="max_sentences", value=max_sentences,
                              expected="a positive number of sentences, or null for whole documents")
        self.format = format
        self.path = Path(path)
        self.limit = limit
        self.max_sentences = max_sentences
        self.skip_invalid = skip_invalid
        self.options = dict(options or {})

    def docs(self, nlp: Language):
        """The converted reference Docs (after `limit`, before sentence grouping)."""
        from . import read_corpus

        for i, doc in enumerate(
            read_corpus(self.format, self.path, nlp, skip_invalid=self.skip_invalid, **self.options)
        ):
            if self.limit and i >= self.limit:
                break
            yield doc

    def __call__(self, nlp: Language) -> Iterator[Example]:
        """Yield an Example per document (or sentence group).

        nlp (Language): The pipeline; its tokenizer makes the predicted docs.
        YIELDS (Example): predicted = nlp.make_doc(text), reference = the converted doc.
        """
        for doc in self.docs(nlp):
            refs = [doc] if self.max_sentences is None else split_into_sentence_groups(
                doc, self.max_sentences
            )
            for ref in refs:
                yield Example(nlp.make_doc(ref.text), ref)


def _corpus(fmt: str, path, limit, max_sentences, skip_invalid, **options) -> Callable:
    return BioCorpus(fmt, path, limit=limit, max_sentences=max_sentences,
                     skip_invalid=skip_invalid, options=options)


@registry.readers("spacy-biobert.PubTatorCorpus.v1")
def create_pubtator_corpus(
    path: Path, limit: int = 0, max_sentences: Optional[int] = None, skip_invalid: bool = False
) -> Callable[[Language], Iterator[Example]]:
    """PubTator corpus (BC5CDR, BioRED, raw PubTator): mentions with concept IDs and
    concept-level relations.

    path (Path): PubTator file. limit (int): Max documents (0: all).
    max_sentences (Optional[int]): Sentence-group size for training; None: whole documents.
    skip_invalid (bool): Skip invalid documents instead of raising.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("pubtator", path, limit, max_sentences, skip_invalid)


@registry.readers("spacy-biobert.NCBIDiseaseCorpus.v1")
def create_ncbi_disease_corpus(
    path: Path, limit: int = 0, max_sentences: Optional[int] = None, skip_invalid: bool = False
) -> Callable[[Language], Iterator[Example]]:
    """NCBI-disease original corpus file (4 mention classes with MeSH/OMIM IDs).

    path (Path): e.g. NCBIdevelopset_corpus.txt. Other arguments as PubTatorCorpus.v1.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("ncbi", path, limit, max_sentences, skip_invalid)


@registry.readers("spacy-biobert.BioCCorpus.v1")
def create_bioc_corpus(
    path: Path, limit: int = 0, max_sentences: Optional[int] = None, skip_invalid: bool = False
) -> Callable[[Language], Iterator[Example]]:
    """BioC XML collection (BC5CDR, BioRED): passages, annotations, relations.

    path (Path): BioC XML file. Other arguments as PubTatorCorpus.v1.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("bioc", path, limit, max_sentences, skip_invalid)


@registry.readers("spacy-biobert.IOBCorpus.v1")
def create_iob_corpus(
    path: Path,
    limit: int = 0,
    max_sentences: Optional[int] = None,
    skip_invalid: bool = False,
    untyped_label: str = "ENTITY",
) -> Callable[[Language], Iterator[Example]]:
    """IOB/CoNLL TSV (BioBERT NER data; `###MEDLINE` / `-DOCSTART-` lines start documents,
    otherwise each sentence is a document).

    path (Path): TSV file. untyped_label (str): Label for untyped "B"/"I" tags (e.g. S800).
    Other arguments as PubTatorCorpus.v1.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("iob", path, limit, max_sentences, skip_invalid, untyped_label=untyped_label)


@registry.readers("spacy-biobert.ChemProtCorpus.v1")
def create_chemprot_corpus(
    path: Path,
    limit: int = 0,
    max_sentences: Optional[int] = None,
    skip_invalid: bool = False,
    relations: str = "gold",
) -> Callable[[Language], Iterator[Example]]:
    """ChemProt original TSVs (abstracts, entities, relations): mention-level CPR relations.

    path (Path): The split's folder (e.g. chemprot_development/) or its abstracts file.
    relations (str): "gold" (the evaluated CPR:3,4,5,6,9 of *_gold_standard.tsv), "all" (every
        annotated relation of *_relations.tsv) or "none". Other arguments as PubTatorCorpus.v1.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("chemprot", path, limit, max_sentences, skip_invalid, relations=relations)


@registry.readers("spacy-biobert.DDICorpus.v1")
def create_ddi_corpus(
    path: Path, limit: int = 0, max_sentences: Optional[int] = None, skip_invalid: bool = False
) -> Callable[[Language], Iterator[Example]]:
    """DDI 2013 XML (one file per document, or a folder of them, searched recursively):
    drug mentions and mention-level interactions (mechanism, effect, advise, int).

    path (Path): XML file or folder. Other arguments as PubTatorCorpus.v1.
    RETURNS (Callable[[Language], Iterator[Example]]): The corpus.
    """
    return _corpus("ddi", path, limit, max_sentences, skip_invalid)
