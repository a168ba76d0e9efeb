"""Turn a parsed corpus record into a spaCy Doc, the same way for every format.

Every reader parses its format into `DocRecord`s (text, mentions by character offsets, relations by
mention or concept ID) and hands them to `iter_docs`, which validates them and builds Docs:

- Tokens come from the pipeline's tokenizer (or a blank English one), and any token that a mention
  boundary falls inside is split there, so no mention is dropped for misalignment and
  `doc.text` is exactly the source text.
- `doc.spans["sc"]` holds every gold mention (label, `kb_id_` = concept ID, `id_` = source mention
  ID); `doc.ents` holds the non-overlapping subset (`spacy.util.filter_spans`: longest first).
- Sentence starts are set (rule-based `Sentencizer` plus the record's own boundaries, e.g. title /
  abstract), and never inside a mention.
- Relations are stored through `doc._.relations` (see `spacy_biobert.relations.annotations`).
- `doc.user_data[META_KEY]` keeps the document ID, source file and passages (title / abstract
  character ranges), and `doc.user_data[MENTION_INFO_KEY]` keeps per-mention details that spans
  cannot hold (discontinuous fragments, PubTator's composite-mention column), so the writers can
  reproduce the source.
"""
import bisect
import codecs
import io
import itertools
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    IO,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

from ..relations.annotations import Mention, Relation, get_relations, set_relations
from .stats import SPANS_KEY, ConversionStats, CorpusError

META_KEY = "spacy_biobert.doc"
MENTION_INFO_KEY = "spacy_biobert.mention_info"
# Separators inside one concept-ID field: BC5CDR/NCBI composite mentions use "|" (NCBI also "+"),
# BioRED joins several IDs with ",", and some releases use ";".
_ID_SEPARATORS = ("|", ",", ";", "+")

VocabOrNlp = Union[Vocab, Language]


@dataclass
class MentionRecord:
    """A mention as a reader parsed it (character offsets into the document text).

    start (int): First character. end (int): One past the last character (covering span for
        discontinuous mentions).
    label (str): Mention type. kb_id (str): Concept ID(s) as the source writes them, "" if none.
    id (str): The source's mention ID (e.g. ChemProt "T3"), unique in the document.
    text (Optional[str]): The mention text the source states, checked against the document text.
    fragments (Tuple[Tuple[int, int], ...]): Character ranges of a discontinuous mention.
    extra (Dict[str, str]): Source fields to keep for writing (e.g. PubTator's 7th column).
    group (str): Span group ("sc" for gold mentions).
    where (str): Location for error messages ("file:line" or an XML element).
    """

    start: int
    end: int
    label: str
    kb_id: str = ""
    id: str = ""
    text: Optional[str] = None
    fragments: Tuple[Tuple[int, int], ...] = ()
    extra: Dict[str, str] = field(default_factory=dict)
    group: str = SPANS_KEY
    where: str = ""


@dataclass
class RelationRecord:
    """A relation as a reader parsed it.

    label (str): Relation type. head (str) / tail (str): mention IDs (level "mention") or concept
        IDs (level "concept"). properties (Dict[str, str]): e.g. {"novel": "Novel"}.
    """

    label: str
    head: str
    tail: str
    level: str = "mention"
    properties: Dict[str, str] = field(default_factory=dict)
    where: str = ""


@dataclass
class DocRecord:
    """One document as a reader parsed it, or a record to skip (`error` set).

    words / spaces: a pre-tokenised document (IOB); then `text` must equal the joined words.
    sent_starts: character offsets where a sentence must start. sentencize: also run the
    rule-based sentencizer. passages: (type, start, end) character ranges for writers.
    """

    id: str
    text: str = ""
    source: str = ""
    where: str = ""
    mentions: List[MentionRecord] = field(default_factory=list)
    relations: List[RelationRecord] = field(default_factory=list)
    sent_starts: List[int] = field(default_factory=list)
    sentencize: bool = True
    passages: List[Tuple[str, int, int]] = field(default_factory=list)
    words: Optional[List[str]] = None
    spaces: Optional[List[bool]] = None
    error: Optional[CorpusError] = None
    notes: Counter = field(default_factory=Counter)
    meta: Dict[str, Any] = field(default_factory=dict)

    def fail(self, error: CorpusError) -> None:
        """Remember the first problem; the record is skipped or raised when it is built."""
        if self.error is None:
            self.error = error


def concept_ids(kb_id: str) -> Set[str]:
    """The concept IDs a mention's ID field stands for: the whole field and each part of a
    composite ("D001|D002") or list ("123,456") ID. "-1" / "-" / "" mean no concept.

    kb_id (str): The mention's concept ID field.
    RETURNS (Set[str]): The IDs relations may name for this mention.
    """
    if kb_id in ("", "-", "-1"):
        return set()
    ids = {kb_id}
    for sep in _ID_SEPARATORS:
        if sep in kb_id:
            ids.update(p for p in kb_id.split(sep) if p and p not in ("-", "-1"))
    return ids


def resolve_vocab(vocab_or_nlp: VocabOrNlp) -> Tuple[Vocab, Callable[[str], Doc]]:
    """The vocab and tokenizer to build Docs with: the pipeline's own tokenizer when given an
    `nlp`, else a blank English tokenizer sharing `vocab`."""
    if isinstance(vocab_or_nlp, Language):
        return vocab_or_nlp.vocab, vocab_or_nlp.tokenizer
    if isinstance(vocab_or_nlp, Vocab):
        from spacy.lang.en import English

        return vocab_or_nlp, English(vocab=vocab_or_nlp).tokenizer
    raise TypeError(f"Expected a spaCy Vocab or Language, got {type(vocab_or_nlp).__name__}")


def read_text_lines(path: Path) -> Iterator[Tuple[int, str, Optional[CorpusError]]]:
    """Yield (line number, line without newline, UTF-8 error or None) for a text file.

    Lines are decoded one by one so that invalid UTF-8 is reported with its line and a reader with
    `skip_invalid=True` can skip just the record that holds it. A leading BOM is dropped.
    """
    decoder_err = None
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                line = raw.decode("utf8")
                decoder_err = None
            except UnicodeDecodeError as err:
                line = raw.decode("utf8", errors="replace")
                decoder_err = CorpusError(
                    "E106", "invalid_utf8", where=f"{path}:{lineno}",
                    cause=f"byte {raw[err.start:err.start + 1]!r} at column {err.start + 1}",
                )
            yield lineno, line.rstrip("\r\n"), decoder_err


def check_not_empty(path: Path, expected: str) -> Optional[CorpusError]:
    """E101 if `path` has nothing but whitespace, else None."""
    with Path(path).open("rb") as fh:
        head = fh.read(4096)
        while head and not head.strip():
            head = fh.read(4096)
    if not head.strip():
        return CorpusError("E101", "empty_file", path=path, expected=expected)
    return None


def realign_fragments(
    text: str, frags: List[Tuple[int, int]], expected: str, rec: DocRecord, what: str
) -> List[Tuple[int, int]]:
    """Fix off-by-one (or -two) fragment offsets of discontinuous / composite-part mentions, a
    known upstream error pattern: BC5CDR's BioC release has 4 (composite parts, whose offsets its
    PubTator release does not carry), DDI's training set 1 (a discontinuous entity).

    Each fragment may move by up to 3 characters, keeping its length; the smallest total shift
    whose text matches `expected` (ignoring spaces) wins, and the fix is counted in `rec.notes`
    (so in `stats.other`). Unfixable mentions are returned unchanged, so validation reports them
    (E104). Readers call this only for those mention kinds (BioC composite parts, DDI
    discontinuous entities); ordinary mentions with wrong offsets are errors.

    RETURNS (List[Tuple[int, int]]): The (possibly shifted) fragments.
    """
    def squash(fragments: List[Tuple[int, int]]) -> str:
        return "".join("".join(text[s:e] for s, e in fragments).split())

    target = "".join(expected.split())
    if squash(frags) == target:
        return frags

    shifts = sorted(itertools.product(range(-3, 4), repeat=len(frags)),
                    key=lambda ds: sum(abs(d) for d in ds))
    for ds in shifts:
        moved = [(s + d, e + d) for (s, e), d in zip(frags, ds)]
        if all(0 <= s < e <= len(text) for s, e in moved) and squash(moved) == target:
            rec.notes[f"{what} realigned (upstream offset errors)"] += 1
            return moved
    return frags


def _validate(rec: DocRecord) -> None:
    n = len(rec.text)
    if not rec.text.strip():
        raise CorpusError(
            "E102", "empty_document", where=rec.where or rec.source,
            problem=f"document '{rec.id}' has no text", expected="a title and/or abstract",
        )
    seen_ids: Set[str] = set()
    for m in rec.mentions:
        for s, e in m.fragments or ((m.start, m.end),):
            if not (0 <= s < e <= n):
                raise CorpusError(
                    "E103", "offset_out_of_range", where=m.where, start=s, end=e,
                    doc_id=rec.id, length=n,
                )
        if m.text is not None:
            if m.fragments:
                # Discontinuous mentions state their fragments joined by a space (BioC) or, after
                # a hyphen, by nothing (DDI "alpha-" + "adrenergic agents"): compare sans spaces.
                found = " ".join(rec.text[s:e] for s, e in m.fragments)
                ok = "".join(found.split()) == "".join(m.text.split())
            else:
                found = rec.text[m.start:m.end]
                # NCBI-disease states one mention with trailing blanks the offsets exclude.
                ok = found == m.text or found == m.text.strip()
            if not ok:
                raise CorpusError(
                    "E104", "text_mismatch", where=m.where, found=m.text, expected=found,
                    start=m.start, end=m.end, doc_id=rec.id,
                )
        if m.id:
            if m.id in seen_ids:
                raise CorpusError(
                    "E102", "duplicate_mention_id", where=m.where,
                    problem=f"mention ID '{m.id}' occurs twice in document '{rec.id}'",
                    expected="unique mention IDs within a document",
                )
            seen_ids.add(m.id)


def _tokenize(rec: DocRecord, vocab: Vocab, tokenizer: Callable[[str], Doc]) -> Doc:
    if rec.words is not None:
        return Doc(vocab, words=rec.words, spaces=rec.spaces)
    text = rec.text
    starts = {m.start for m in rec.mentions}
    ends = {m.end for m in rec.mentions}
    cuts = sorted(starts | ends | set(rec.sent_starts))
    words: List[str] = []
    spaces: List[bool] = []
    for tok in tokenizer(text):
        s = tok.idx
        e = s + len(tok.text)
        bounds = [s]
        i = bisect.bisect_right(cuts, s)
        while i < len(cuts) and cuts[i] < e:
            bounds.append(cuts[i])
            i += 1
        bounds.append(e)
        for a, b in zip(bounds, bounds[1:]):
            words.append(text[a:b])
            spaces.append(False)
        if tok.whitespace_:
            # A trailing space can't be a span edge; make it a token if a mention starts on it
            # or ends just after it.
            if e in starts or (e + 1) in ends:
                words.append(tok.whitespace_)
                spaces.append(False)
            else:
                spaces[-1] = True
    doc = Doc(vocab, words=words, spaces=spaces)
    assert doc.text == text, "token split changed the text"
    return doc


def build_doc(rec: DocRecord, vocab: Vocab, tokenizer: Callable[[str], Doc]) -> Doc:
    """Validate a record and build its Doc (see the module docstring for what the Doc holds).

    rec (DocRecord): The parsed document.
    vocab (Vocab): Vocab for the Doc. tokenizer (Callable[[str], Doc]): Base tokenizer.
    RETURNS (Doc): The converted document.
    RAISES (CorpusError): E102-E105 when the record is invalid.
    """
    if rec.error is not None:
        raise rec.error
    _validate(rec)
    doc = _tokenize(rec, vocab, tokenizer)
    groups: Dict[str, List[Span]] = defaultdict(list)
    by_id: Dict[str, Span] = {}
    info: Dict[str, Dict] = {}
    for k, m in enumerate(rec.mentions):
        mid = m.id or f"M{k + 1}"
        kb_id = "" if m.kb_id in ("-", "-1") else m.kb_id
        span = doc.char_span(m.start, m.end, label=m.label, kb_id=kb_id, span_id=mid)
        if span is None:  # cannot happen: _tokenize cut at every mention edge
            raise RuntimeError(f"mention {m.start}-{m.end} not aligned in {rec.where}")
        groups[m.group].append(span)
        by_id[mid] = span
        if m.fragments or m.extra:
            info[mid] = {"fragments": [list(f) for f in m.fragments], "extra": dict(m.extra)}
    groups.setdefault(SPANS_KEY, [])
    for key, spans in groups.items():
        doc.spans[key] = spans
    doc.ents = filter_spans(groups[SPANS_KEY])
    _set_sentences(doc, rec, [s for spans in groups.values() for s in spans])
    doc.user_data[META_KEY] = {
        "id": rec.id,
        "source": rec.source,
        "passages": [[t, s, e] for t, s, e in rec.passages],
        **rec.meta,
    }
    if info:
        doc.user_data[MENTION_INFO_KEY] = info
    if rec.relations:
        set_relations(doc, _build_relations(rec, groups[SPANS_KEY], by_id))
    return doc


def _set_sentences(doc: Doc, rec: DocRecord, mentions: Sequence[Span]) -> None:
    # Through arrays: the Token.is_sent_start setter costs a has_annotation() scan per token,
    # which made JNLPBA's 490k tokens take seconds.
    import numpy

    if len(doc) == 0:
        return
    if rec.sentencize:
        from spacy.pipeline import Sentencizer

        Sentencizer()(doc)
        flags = doc.to_array(SENT_START).astype("int64")
        flags[flags == 0] = -1
    else:
        flags = numpy.full(len(doc), -1, dtype="int64")
    flags[0] = 1
    token_starts = doc.to_array(IDX)
    for char in rec.sent_starts:
        i = int(numpy.searchsorted(token_starts, char, side="left"))
        if i < len(doc):
            flags[i] = 1
    for span in mentions:
        flags[span.start + 1:span.end] = -1
    doc.from_array([SENT_START], flags.astype("uint64").reshape(-1, 1))


def _build_relations(
    rec: DocRecord, mentions: Sequence[Span], by_id: Dict[str, Span]
) -> List[Relation]:
    by_concept: Dict[str, List[Span]] = defaultdict(list)
    for span in mentions:
        for cid in concept_ids(span.kb_id_):
            by_concept[cid].append(span)
    rels = []
    for r in rec.relations:
        if r.level == "mention":
            ends = []
            for ref in (r.head, r.tail):
                if ref not in by_id:
                    raise CorpusError(
                        "E105", "unknown_mention", where=r.where, label=r.label, kind="mention",
                        ref=ref, doc_id=rec.id, known=_preview(by_id),
                    )
                ends.append(Mention.from_span(by_id[ref]))
            rels.append(Relation(r.label, head=ends[0], tail=ends[1], properties=r.properties))
        else:
            sides = []
            for ref in (r.head, r.tail):
                if ref not in by_concept:
                    raise CorpusError(
                        "E105", "unknown_mention", where=r.where, label=r.label,
                        kind="concept", ref=ref, doc_id=rec.id, known=_preview(by_concept),
                    )
                sides.append(tuple(Mention.from_span(s) for s in by_concept[ref]))
            rels.append(
                Relation(
                    r.label, head_id=r.head, tail_id=r.tail, head_mentions=sides[0],
                    tail_mentions=sides[1], properties=r.properties,
                )
            )
    return rels


def _preview(keys: Iterable[str], n: int = 10) -> str:
    keys = sorted(keys)
    if not keys:
        return "(no mentions)"
    more = f", ... ({len(keys)} in all)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def iter_docs(
    records: Iterable[DocRecord],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
) -> Iterator[Doc]:
    """Build Docs from parsed records, raising or skipping (and counting) invalid ones.

    records (Iterable[DocRecord]): Parsed documents (records with `error` set are invalid).
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid records and count them in `stats.skipped` instead of raising.
    stats (Optional[ConversionStats]): Updated with every doc produced and record skipped.
    YIELDS (Doc): The converted documents.
    """
    vocab, tokenizer = resolve_vocab(vocab_or_nlp)
    for rec in records:
        try:
            doc = build_doc(rec, vocab, tokenizer)
        except CorpusError as err:
            if not skip_invalid:
                raise
            if stats is not None:
                stats.skip(err.reason)
            continue
        if stats is not None:
            stats.add_doc(doc)
            stats.other.update(rec.notes)
        yield doc


def doc_id(doc: Doc, default: str = "") -> str:
    """The source document ID a reader stored on `doc` (or `default`)."""
    return str(doc.user_data.get(META_KEY, {}).get("id") or default)


def split_into_sentence_groups(doc: Doc, max_sentences: int) -> List[Doc]:
    """Cut a converted document into consecutive groups of at most `max_sentences` sentences.

    Mentions, entities and relations inside a group are kept (token offsets shifted). A
    mention-level relation is kept when both its mentions are in the group; a concept-level one
    when both concepts have a mention in the group (with only those mentions). Sentences never
    split a mention, so no mention is lost.

    doc (Doc): A document with sentence boundaries. max_sentences (int): Group size (>= 1).
    RETURNS (List[Doc]): The groups; `[doc]` when it has no more than `max_sentences` sentences.
    """
    sents = list(doc.sents)
    if len(sents) <= max_sentences:
        return [doc]
    meta = doc.user_data.get(META_KEY, {})
    info = doc.user_data.get(MENTION_INFO_KEY, {})
    rels = get_relations(doc)
    out = []
    for g, k in enumerate(range(0, len(sents), max_sentences)):
        start, end = sents[k].start, sents[min(k + max_sentences, len(sents)) - 1].end
        sub = doc[start:end].as_doc()
        sub.user_data.clear()
        for key, group in doc.spans.items():
            sub.spans[key] = [
                Span(sub, s.start - start, s.end - start, label=s.label, kb_id=s.kb_id, span_id=s.id)
                for s in group if s.start >= start and s.end <= end
            ]
        sub.ents = [
            Span(sub, s.start - start, s.end - start, label=s.label, kb_id=s.kb_id, span_id=s.id)
            for s in doc.ents if s.start >= start and s.end <= end
        ]
        sub.user_data[META_KEY] = {
            "id": f"{meta.get('id', '')}#{g}", "source": meta.get("source", ""), "passages": [],
            "parent": meta.get("id", ""), "char_offset": doc[start].idx,
        }
        ids = {s.id_ for group in sub.spans.values() for s in group}
        if info:
            sub.user_data[MENTION_INFO_KEY] = {
                k2: {
                    "fragments": [[a - doc[start].idx, b - doc[start].idx] for a, b in v["fragments"]],
                    "extra": v["extra"],
                }
                for k2, v in info.items() if k2 in ids
            }
        set_relations(sub, _shift_relations(rels, start, end))
        out.append(sub)
    return out


def _shift_relations(rels: Sequence[Relation], start: int, end: int) -> List[Relation]:
    def inside(m: Mention) -> bool:
        return m.start >= start and m.end <= end

    def shift(m: Mention) -> Mention:
        return Mention(m.start - start, m.end - start, m.label, m.kb_id)

    kept = []
    for rel in rels:
        if rel.level == "mention":
            if inside(rel.head) and inside(rel.tail):
                kept.append(Relation(rel.label, head=shift(rel.head), tail=shift(rel.tail),
                                     score=rel.score, properties=rel.properties))
            continue
        heads = tuple(shift(m) for m in rel.head_mentions if inside(m))
        tails = tuple(shift(m) for m in rel.tail_mentions if inside(m))
        if heads and tails:
            kept.append(Relation(rel.label, head_id=rel.head_id, tail_id=rel.tail_id,
                                 head_mentions=heads, tail_mentions=tails, score=rel.score,
                                 properties=rel.properties))
    return kept


class atomic_output:
    """Context manager: a text file at a temporary path beside `path`, renamed to `path` on
    success and deleted on failure, so no partial output is ever left."""

    def __init__(self, path: Path, mode: str = "w") -> None:
        self.path = Path(path)
        self.mode = mode
        self.tmp: Optional[str] = None
        self.fh: Optional[IO] = None

    def __enter__(self) -> IO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=str(self.path.parent))
        if "b" in self.mode:
            self.fh = os.fdopen(fd, self.mode)
        else:
            self.fh = io.open(fd, self.mode, encoding="utf8", newline="\n")
        return self.fh

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.fh is not None and self.tmp is not None
        self.fh.close()
        if exc_type is None:
            # mkstemp creates 0600 files; give the output the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.unlink(self.tmp)
