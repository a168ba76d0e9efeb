"""PubTator reader and writer (BC5CDR, BioRED, NCBI-disease, raw PubTator from PubMed).

Format: per document `PMID|t|title` and `PMID|a|abstract` lines, then mention lines
`PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ID(s)[<TAB>individual mentions]]` (character
offsets over `title + " " + abstract`, end exclusive), then relation lines
`PMID<TAB>type<TAB>ID1<TAB>ID2[<TAB>novelty]` between concept IDs. Documents are separated by blank
lines. Raw PubTator (title and abstract lines only) is accepted.

Python API:
    read_pubtator(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    write_pubtator(docs, path_or_file) -> ConversionStats
"""
import re
from pathlib import Path
from typing import IO, Iterable, Iterator, List, Optional, Union

from spacy.tokens import Doc

from ..relations.annotations import concept_relations, get_relations
from .docbuilder import (
    MENTION_INFO_KEY,
    META_KEY,
    DocRecord,
    MentionRecord,
    RelationRecord,
    VocabOrNlp,
    atomic_output,
    check_not_empty,
    doc_id,
    iter_docs,
    read_text_lines,
)
from .stats import ConversionStats, CorpusError, doc_mentions

_PASSAGE_RE = re.compile(r"^([^|\t]*)\|([ta])\|(.*)$")
_EXPECTED_FILE = "'PMID|t|title' and 'PMID|a|abstract' lines, then annotation lines"
# BioRED's 5th relation column ("Novel" / "No") is kept under this property name, as in its BioC.
NOVELTY_PROPERTY = "novel"


def parse_pubtator(path: Union[str, Path], *, format_name: str = "PubTator") -> Iterator[DocRecord]:
    """Parse a PubTator file into document records (see `docbuilder.DocRecord`).

    path (Union[str, Path]): The file. format_name (str): Used in messages.
    YIELDS (DocRecord): One per document; invalid ones carry `error`.
    """
    path = Path(path)
    empty = check_not_empty(path, f"{format_name}: {_EXPECTED_FILE}")
    if empty is not None:
        yield DocRecord(id=str(path), source=str(path), error=empty)
        return
    rec: Optional[DocRecord] = None
    state = ""  # "t" after the title line, "a" after the abstract line
    title = ""
    for lineno, line, utf8_err in read_text_lines(path):
        where = f"{path}:{lineno}"
        if utf8_err is not None:
            # Parse the line as decoded with replacement characters, so the record it belongs
            # to (possibly a new document) is the one that fails.
            match = _PASSAGE_RE.match(line)
            if match and match.group(2) == "t":
                if rec is not None:
                    yield _finish(rec, state, path)
                rec = DocRecord(id=match.group(1), source=str(path), where=where)
                title, state = match.group(3), "t"
            if rec is None:
                yield DocRecord(id=where, source=str(path), where=where, error=utf8_err)
            else:
                rec.fail(utf8_err)
            continue
        if not line.strip():
            continue
        match = _PASSAGE_RE.match(line)
        if match:
            pmid, kind, text = match.groups()
            if kind == "t":
                if rec is not None:
                    yield _finish(rec, state, path)
                rec = DocRecord(id=pmid, source=str(path), where=where)
                title, state = text, "t"
                continue
            if rec is None or state != "t" or pmid != rec.id:
                bad = DocRecord(id=pmid, source=str(path), where=where) if rec is None else rec
                bad.fail(CorpusError(
                    "E102", "malformed_line", where=where,
                    problem=f"abstract line for PMID '{pmid}' without its title line just before",
                    expected=f"'{pmid}|t|title' then '{pmid}|a|abstract'",
                ))
                if rec is None:
                    rec = bad
                continue
            rec.text = f"{title} {text}" if text else title
            rec.passages = [("title", 0, len(title))]
            if text:
                rec.passages.append(("abstract", len(title) + 1, len(rec.text)))
                rec.sent_starts.append(len(title) + 1)
            state = "a"
            continue
        fields = line.split("\t")
        pmid = fields[0]
        if rec is None:
            yield DocRecord(id=pmid, source=str(path), where=where, error=CorpusError(
                "E102", "malformed_line", where=where,
                problem="annotation line before any title line",
                expected=f"{format_name}: {_EXPECTED_FILE}",
            ))
            continue
        if state != "a":
            rec.fail(CorpusError(
                "E102", "truncated_document", where=where,
                problem=f"document '{rec.id}' has no abstract line before its annotations",
                expected=f"'{rec.id}|a|abstract' after the title line",
            ))
            continue
        if pmid != rec.id:
            rec.fail(CorpusError(
                "E102", "malformed_line", where=where,
                problem=f"annotation for PMID '{pmid}' inside document '{rec.id}'",
                expected=f"annotation lines starting with '{rec.id}'",
            ))
            continue
        if len(fields) >= 3 and fields[1].isdigit() and fields[2].isdigit():
            if len(fields) < 5:
                rec.fail(CorpusError(
                    "E102", "malformed_line", where=where,
                    problem=f"mention line with {len(fields)} tab-separated fields",
                    expected="PMID, start, end, text, type[, ID[, individual mentions]]",
                ))
                continue
            extra = {"individual": fields[6]} if len(fields) > 6 and fields[6] else {}
            rec.mentions.append(MentionRecord(
                start=int(fields[1]), end=int(fields[2]), text=fields[3], label=fields[4],
                kb_id=fields[5] if len(fields) > 5 else "", id=f"T{len(rec.mentions) + 1}",
                extra=extra, where=where,
            ))
        elif len(fields) >= 4 and not fields[1].lstrip("-").isdigit():
            props = {NOVELTY_PROPERTY: fields[4]} if len(fields) > 4 and fields[4] else {}
            rec.relations.append(RelationRecord(
                label=fields[1], head=fields[2], tail=fields[3], level="concept",
                properties=props, where=where,
            ))
        else:
            rec.fail(CorpusError(
                "E102", "malformed_line", where=where,
                problem=f"cannot read line {line[:80]!r} as a mention or relation",
                expected="'PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ID]' or "
                         "'PMID<TAB>relation<TAB>ID1<TAB>ID2'",
            ))
    if rec is not None:
        yield _finish(rec, state, path)


def _finish(rec: DocRecord, state: str, path: Path) -> DocRecord:
    if state != "a":
        rec.fail(CorpusError(
            "E102", "truncated_document", where=rec.where,
            problem=f"document '{rec.id}' has a title line but no abstract line",
            expected=f"'{rec.id}|a|abstract' (may be empty) after the title",
        ))
    return rec


def read_pubtator(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
) -> Iterator[Doc]:
    """Read a PubTator file (BC5CDR, BioRED, raw PubTator) into Docs.

    Each Doc: text `title + " " + abstract`; every mention in `doc.spans["sc"]` (label = type,
    `kb_id_` = the ID field, "" for "-1"/"-"), the non-overlapping ones in `doc.ents`; sentences
    (the title is one); concept-level `doc._.relations` (head_id/tail_id as written, all mentions
    of each concept, BioRED's novelty as `properties["novel"]`). `doc.user_data["spacy_biobert.doc"]`
    has the PMID and the title/abstract ranges.

    path (Union[str, Path]): The PubTator file.
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or a pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid documents (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, mentions, relations and skips.
    YIELDS (Doc): One per document.
    RAISES (CorpusError): E101-E106 on invalid input unless `skip_invalid`.
    """
    yield from iter_docs(parse_pubtator(path), vocab_or_nlp, skip_invalid=skip_invalid, stats=stats)


def _one_line(text: str) -> str:
    # Tabs and newlines would break PubTator's line format; same-length replacement keeps offsets.
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _title_and_abstract(doc: Doc) -> tuple:
    """Split the doc text into title and abstract with a one-character separator, so that
    character offsets over `title + " " + abstract` equal offsets into `doc.text`."""
    text = doc.text
    passages = doc.user_data.get(META_KEY, {}).get("passages") or []
    cut = None
    for kind, _start, end in passages:
        if kind == "title" and end < len(text):
            cut = end
            break
        if kind == "title":
            return text, ""
    if cut is None and doc.has_annotation("SENT_START"):
        first = next(iter(doc.sents))
        if first.end < len(doc):
            cut = first.end_char
    if cut is None or cut >= len(text) or not text[cut].isspace():
        return text, ""
    return text[:cut], text[cut + 1:]


def format_pubtator(doc: Doc, *, default_id: str = "0", stats: Optional[ConversionStats] = None) -> str:
    """One document in PubTator format (ends with a blank line).

    Mentions are `doc.spans["sc"]` in order, then any other `doc.ents`; an empty `kb_id_` is
    written as "-1". Concept-level relations are written as they are (with `properties["novel"]`
    as the 5th column); mention-level ones are collapsed to concept pairs through their mentions'
    `kb_id_`s, and those whose mentions have no ID are counted in `stats.skipped` under
    "relation_without_concept_id" (PubTator can only state relations between concept IDs).

    doc (Doc): The document. default_id (str): PMID to use when the doc has none.
    stats (Optional[ConversionStats]): Counts what is written and skipped.
    RETURNS (str): The PubTator text.
    """
    pmid = re.sub(r"[|\t\s]", "_", doc_id(doc, default_id)) or default_id
    title, abstract = _title_and_abstract(doc)
    lines = [f"{pmid}|t|{_one_line(title)}", f"{pmid}|a|{_one_line(abstract)}"]
    mentions = doc_mentions(doc)
    info = doc.user_data.get(MENTION_INFO_KEY, {})
    for span in mentions:
        fields = [pmid, str(span.start_char), str(span.end_char), _one_line(span.text), span.label_,
                  span.kb_id_ or "-1"]
        individual = info.get(span.id_, {}).get("extra", {}).get("individual")
        if individual:
            fields.append(individual)
        lines.append("\t".join(fields))
    rels = get_relations(doc)
    mention_level = [r for r in rels if r.level == "mention"]
    # One line per (head ID, tail ID, label): a pipeline's concept-level view and the mention-level
    # relations it was built from state the same pair.
    collapsed = concept_relations(rels)
    if stats is not None:
        dropped = sum(1 for r in mention_level if not r.head.kb_id or not r.tail.kb_id)
        if dropped:
            stats.skip("relation_without_concept_id", dropped)
    for rel in collapsed:
        fields = [pmid, rel.label, rel.head_id, rel.tail_id]
        if rel.properties.get(NOVELTY_PROPERTY):
            fields.append(rel.properties[NOVELTY_PROPERTY])
        lines.append("\t".join(fields))
    if stats is not None:
        stats.add_doc(doc)
    return "\n".join(lines) + "\n\n"


def write_pubtator(docs: Iterable[Doc], path_or_file: Union[str, Path, IO[str]]) -> ConversionStats:
    """Write Docs as PubTator (inverse of `read_pubtator`: reading the output gives the same
    text, mentions, concept IDs and relations).

    docs (Iterable[Doc]): Documents, e.g. from a reader or a pipeline.
    path_or_file (Union[str, Path, IO[str]]): Output path (written to a temporary file and then
        renamed, so a failure leaves no partial file) or an open text file.
    RETURNS (ConversionStats): What was written (docs, mentions, relations) and skipped.
    """
    stats = ConversionStats()
    if isinstance(path_or_file, (str, Path)):
        with atomic_output(Path(path_or_file)) as fh:
            for i, doc in enumerate(docs):
                fh.write(format_pubtator(doc, default_id=str(i), stats=stats))
    else:
        for i, doc in enumerate(docs):
            path_or_file.write(format_pubtator(doc, default_id=str(i), stats=stats))
    return stats


def pubtator_records(paths: List[Path]) -> Iterator[DocRecord]:
    """Records of several PubTator files in order (used for directory inputs)."""
    for path in paths:
        yield from parse_pubtator(path)
