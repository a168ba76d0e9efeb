"""NCBI-disease original corpus files (`NCBI{train,develop,test}set_corpus.txt`).

The layout is PubTator's (title and abstract lines, then
`PMID<TAB>start<TAB>end<TAB>text<TAB>class<TAB>concept-ID(s)`), with four mention classes
(SpecificDisease, DiseaseClass, Modifier, CompositeMention), MeSH (`D...`) or OMIM (`OMIM:...`) IDs
(composites joined by "|" or "+") and no relations; files may start with a blank line. One mention
in the training file states its text with trailing blanks that its offsets exclude; that is accepted.

Python API:
    read_ncbi_disease(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
"""
from pathlib import Path
from typing import Iterator, Optional, Union

from spacy.tokens import Doc

from .docbuilder import VocabOrNlp, iter_docs
from .pubtator import parse_pubtator
from .stats import ConversionStats


def read_ncbi_disease(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
) -> Iterator[Doc]:
    """Read an NCBI-disease corpus file into Docs (as `read_pubtator`: mentions with their class
    as label and concept IDs as `kb_id_` in `doc.spans["sc"]` and `doc.ents`, sentences set).

    path (Union[str, Path]): The corpus file.
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or a pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid documents (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, mentions and skips.
    YIELDS (Doc): One per document.
    """
    records = parse_pubtator(path, format_name="NCBI-disease")
    yield from iter_docs(records, vocab_or_nlp, skip_invalid=skip_invalid, stats=stats)
