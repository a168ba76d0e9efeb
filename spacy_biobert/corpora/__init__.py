"""Corpus readers, writers and registered spaCy readers for biomedical NER / RE corpora.

Python API (every reader yields spaCy Docs: all gold mentions in `doc.spans["sc"]` with label and
concept ID as `kb_id_`, the non-overlapping ones in `doc.ents`, sentence starts set, relations in
`doc._.relations`; invalid input raises a coded `CorpusError` naming file and line / element, or
with `skip_invalid=True` is skipped and counted in `stats.skipped`):

    read_pubtator(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    read_ncbi_disease(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    read_bioc(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    read_iob(path, vocab_or_nlp, *, skip_invalid=False, stats=None, untyped_label="ENTITY")
    read_chemprot(path, vocab_or_nlp, *, skip_invalid=False, stats=None, relations="gold")
    read_ddi(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    read_corpus(format, path, vocab_or_nlp, **kwargs) -> Iterator[Doc]   # format in FORMATS
    write_pubtator(docs, path_or_file) -> ConversionStats
    write_bioc(docs, path_or_file) -> ConversionStats
    ConversionStats: docs, entities {label: n}, relations {label: n}, skipped {reason: n},
        overlapping (mentions not in doc.ents), other (e.g. DDI negative pairs), .to_dict()
        (the `convert --summary` JSON), .print_table()
    split_into_sentence_groups(doc, max_sentences) -> List[Doc]   # training-size pieces
    doc_id(doc) -> str; doc_mentions(doc) -> List[Span]   # what the writers write

Metadata: doc.user_data[META_KEY] = {"id", "source", "passages": [[type, start, end], ...]}
(+ "negative_pairs" for DDI); doc.user_data[MENTION_INFO_KEY] = {span.id_: {"fragments",
"extra"}} for discontinuous mentions and source fields such as PubTator's composite column.

`vocab_or_nlp` is a `Vocab` (a blank English tokenizer is used) or a pipeline (its tokenizer is
used, so converted docs align with `nlp.make_doc`). Registered readers for training configs:
spacy-biobert.{PubTator,BioC,NCBIDisease,IOB,ChemProt,DDI}Corpus.v1 (see `registry.py`).
"""
import importlib
from pathlib import Path
from typing import Any, Iterator, Union

from spacy.tokens import Doc

from . import registry  # noqa: F401  (registers the readers)
from .docbuilder import (
    MENTION_INFO_KEY,
    META_KEY,
    VocabOrNlp,
    doc_id,
    split_into_sentence_groups,
)
from .ncbi import read_ncbi_disease
from .pubtator import read_pubtator, write_pubtator
from .stats import SPANS_KEY, ConversionStats, CorpusError, doc_mentions

# Format name -> (module, reader function); modules are imported when first used.
FORMATS = {
    "pubtator": ("pubtator", "read_pubtator"),
    "ncbi": ("ncbi", "read_ncbi_disease"),
    "bioc": ("bioc", "read_bioc"),
    "iob": ("iob", "read_iob"),
    "chemprot": ("chemprot", "read_chemprot"),
    "ddi": ("ddi", "read_ddi"),
}


def read_corpus(format: str, path: Union[str, Path], vocab_or_nlp: VocabOrNlp, **kwargs: Any) -> Iterator[Doc]:
    """Read a corpus in any supported format.

    format (str): One of FORMATS ("pubtator", "ncbi", "bioc", "iob", "chemprot", "ddi").
    path (Union[str, Path]): Input file or folder.
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or pipeline whose tokenizer to use.
    **kwargs: The reader's options (skip_invalid, stats, and format-specific ones).
    YIELDS (Doc): The converted documents.
    RAISES (CorpusError): E107 for an unknown format; E108 when the input does not exist.
    """
    if format not in FORMATS:
        raise CorpusError("E107", "unknown_format", format=format, formats=", ".join(FORMATS))
    if not Path(path).exists():
        raise CorpusError("E108", "missing_input", path=path, problem="does not exist",
                          expected=f"a {format} file or folder")
    module, func = FORMATS[format]
    reader = getattr(importlib.import_module(f"{__name__}.{module}"), func)
    return reader(path, vocab_or_nlp, **kwargs)


def __getattr__(name: str) -> Any:
    # Readers / writers whose modules import optional heavy parsers load on first use.
    lazy = {
        "read_bioc": "bioc", "write_bioc": "bioc", "read_iob": "iob", "read_chemprot": "chemprot",
        "read_ddi": "ddi",
    }
    if name in lazy:
        return getattr(importlib.import_module(f"{__name__}.{lazy[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS", "read_corpus", "read_pubtator", "write_pubtator", "read_ncbi_disease", "read_bioc",
    "write_bioc", "read_iob", "read_chemprot", "read_ddi", "ConversionStats", "CorpusError",
    "SPANS_KEY", "META_KEY", "MENTION_INFO_KEY", "doc_id", "doc_mentions", "split_into_sentence_groups",
]
