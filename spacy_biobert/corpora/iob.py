"""IOB / CoNLL TSV reader, as BioBERT and MTL-Bioinformatics-2016 distribute NER data.

One token per line, `token<TAB>...<TAB>tag` (the first column is the token, the last the tag;
2-column and multi-column files), a blank line between sentences. Tags may be IOB2 (`B-X` starts
every entity), IOB1 (`I-X` after `O` or another type starts one), IOBES (`E-`, `S-`) or untyped
(`B`, `I`, as in S800). Document boundaries: `###MEDLINE:<id>` lines (JNLPBA) or `-DOCSTART-`
lines start a new document; a file with neither has one document per sentence. The document text is
the tokens joined by single spaces (the files do not keep the original spacing), and tokens are
taken as they are (no re-tokenisation).

Python API:
    read_iob(path, vocab_or_nlp, *, skip_invalid=False, stats=None, untyped_label="ENTITY")
        -> Iterator[Doc]
"""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from spacy.tokens import Doc

from .docbuilder import (
    DocRecord,
    MentionRecord,
    VocabOrNlp,
    check_not_empty,
    iter_docs,
    read_text_lines,
)
from .stats import ConversionStats, CorpusError

_TAG_RE = re.compile(r"^([BIES])(?:-(.+))?$")
_EXPECTED = "IOB/CoNLL lines 'token<TAB>tag' with blank lines between sentences"


class _DocBuilder:
    """Accumulates one document's tokens, sentences and entities."""

    def __init__(self, doc_id: str, path: Path, where: str) -> None:
        self.rec = DocRecord(id=doc_id, source=str(path), where=where, sentencize=False)
        self.rec.words = []
        self.chars = 0
        self.open: Optional[Tuple[int, str]] = None  # (start char, label) of the open entity
        self.last_end = 0
        self.sentence_open = False
        self.open_where = ""

    def close(self) -> None:
        if self.open is not None:
            start, label = self.open
            self.rec.mentions.append(MentionRecord(start=start, end=self.last_end, label=label,
                                                   where=self.open_where))
            self.open = None

    def end_sentence(self) -> None:
        self.close()
        self.sentence_open = False

    def add(self, token: str, prefix: str, label: str, where: str) -> None:
        words = self.rec.words
        assert words is not None
        start = self.chars + (1 if words else 0)
        if not self.sentence_open:
            self.rec.sent_starts.append(start)
            self.sentence_open = True
        words.append(token)
        self.chars = start + len(token)
        if prefix == "O":
            self.close()
        elif prefix in ("B", "S") or self.open is None or self.open[1] != label:
            # IOB2 "B-", IOB1 "I-" after O / another type, IOBES "S-": a new entity.
            self.close()
            self.open = (start, label)
            self.open_where = where
        self.last_end = self.chars
        if prefix in ("E", "S"):
            self.close()

    def finish(self) -> Optional[DocRecord]:
        self.end_sentence()
        words = self.rec.words
        if not words:
            # A sentence of nothing but unreadable lines is still reported (or counted).
            return self.rec if self.rec.error is not None else None
        self.rec.spaces = [True] * (len(words) - 1) + [False]
        self.rec.text = " ".join(words)
        return self.rec


def parse_iob(path: Union[str, Path], *, untyped_label: str = "ENTITY") -> Iterator[DocRecord]:
    """Parse an IOB/CoNLL file into document records.

    path (Union[str, Path]): The TSV file. untyped_label (str): Label for untyped "B"/"I" tags.
    YIELDS (DocRecord): One per document (or per sentence when the file has no document markers).
    """
    path = Path(path)
    empty = check_not_empty(path, _EXPECTED)
    if empty is not None:
        yield DocRecord(id=str(path), source=str(path), error=empty)
        return
    has_markers = _has_doc_markers(path)
    n_docs = 0
    cur: Optional[_DocBuilder] = None

    def new_doc(doc_id: str, where: str) -> _DocBuilder:
        return _DocBuilder(doc_id, path, where)

    for lineno, line, utf8_err in read_text_lines(path):
        where = f"{path}:{lineno}"
        stripped = line.strip()
        if stripped.startswith("###MEDLINE") or stripped.startswith("-DOCSTART-"):
            if cur is not None:
                rec = cur.finish()
                if rec is not None:
                    yield rec
            n_docs += 1
            marker_id = stripped.split(":", 1)[1].strip() if ":" in stripped else ""
            cur = new_doc(marker_id or f"{path.name}#{n_docs}", where)
            continue
        if not stripped:
            if cur is not None:
                cur.end_sentence()
                if not has_markers:
                    rec = cur.finish()
                    if rec is not None:
                        yield rec
                    cur = None
            continue
        if cur is None:
            n_docs += 1
            cur = new_doc(f"{path.name}#{n_docs}", where)
        if utf8_err is not None:
            cur.rec.fail(utf8_err)
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) < 2 or not cols[0].strip():
            cur.rec.fail(CorpusError(
                "E102", "malformed_line", where=where,
                problem=f"line {line[:60]!r} has {len(cols)} column(s)" if len(cols) < 2
                else "empty token", expected=_EXPECTED,
            ))
            continue
        token, tag = cols[0].strip(), cols[-1].strip()
        if tag == "O":
            cur.add(token, "O", "", where)
            continue
        match = _TAG_RE.match(tag)
        if match is None:
            cur.rec.fail(CorpusError("E110", "invalid_tag", where=where, tag=tag))
            continue
        cur.add(token, match.group(1), match.group(2) or untyped_label, where)
    if cur is not None:
        rec = cur.finish()
        if rec is not None:
            yield rec


def _has_doc_markers(path: Path) -> bool:
    with path.open("rb") as fh:
        for raw in fh:
            if raw.startswith(b"###MEDLINE") or raw.startswith(b"-DOCSTART-"):
                return True
    return False


def read_iob(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
    untyped_label: str = "ENTITY",
) -> Iterator[Doc]:
    """Read an IOB/CoNLL TSV file into Docs: the file's tokens, its sentences, entities in
    `doc.spans["sc"]` and `doc.ents` (no concept IDs).

    path (Union[str, Path]): The TSV file.
    vocab_or_nlp (Union[Vocab, Language]): Vocab (or pipeline; its tokenizer is not used).
    skip_invalid (bool): Skip invalid documents (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, entities and skips.
    untyped_label (str): Label for untyped "B"/"I" tags.
    YIELDS (Doc): One per document (per sentence when the file has no document markers).
    """
    records = parse_iob(path, untyped_label=untyped_label)
    yield from iter_docs(records, vocab_or_nlp, skip_invalid=skip_invalid, stats=stats)


__all__: List[str] = ["read_iob", "parse_iob"]
