"""DDI corpus 2013 XML reader (DrugBank and MedLine documents).

One XML file per document: `<document id>` → `<sentence id text>` → `<entity id charOffset type
text>` and `<pair id e1 e2 ddi="true|false" type>`. Entity offsets are relative to the sentence
and their end is **inclusive**; discontinuous entities use `s1-e1;s2-e2` (the span covers
them, the fragments are kept in `doc.user_data["spacy_biobert.mention_info"]`). Every pair of
drug mentions in a sentence is listed, so negatives are explicit: positive pairs become
mention-level relations (label = `type`: mechanism, effect, advise, int; the one upstream
positive pair without a type gets the label "untyped"), negative pairs are kept as
`[e1, e2]` mention-ID lists in `doc.user_data["spacy_biobert.doc"]["negative_pairs"]` and counted
in `stats.other`.

The Doc text is the sentences joined by single spaces; sentence boundaries are the corpus's own
(empty sentences, which a Doc cannot hold, are counted in `stats.other`).

Python API:
    read_ddi(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
        path: one XML file or a folder (searched recursively for *.xml, in sorted order)
"""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from spacy.tokens import Doc

from .bioc import check_utf8
from .docbuilder import (
    DocRecord,
    MentionRecord,
    RelationRecord,
    VocabOrNlp,
    check_not_empty,
    iter_docs,
    realign_fragments,
)
from .stats import ConversionStats, CorpusError

UNTYPED_LABEL = "untyped"
_OFFSET_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_EXPECTED = "a DDI XML document (<document id><sentence id text><entity .../><pair .../>)"


def ddi_files(path: Union[str, Path]) -> List[Path]:
    """The XML files to read: `path` itself, or every *.xml under the folder `path` (sorted)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.xml") if p.is_file())
        if not files:
            raise CorpusError("E108", "missing_input", path=path, problem="has no *.xml files",
                              expected="a DDI XML file or a folder of them (e.g. Train/)")
        return files
    return [path]


def parse_ddi_file(path: Path) -> DocRecord:
    """Parse one DDI XML file into a document record (with `error` set if invalid)."""
    from lxml import etree

    problem = check_not_empty(path, _EXPECTED) or check_utf8(path)
    if problem is not None:
        return DocRecord(id=str(path), source=str(path), error=problem)
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as err:
        return DocRecord(id=str(path), source=str(path), error=CorpusError(
            "E109", "invalid_xml", where=f"{path}:{err.lineno}", cause=err.msg, expected=_EXPECTED,
        ))
    rec = DocRecord(id=root.get("id") or path.stem, source=str(path), where=f"{path}:{root.sourceline}",
                    sentencize=False)
    if root.tag != "document":
        rec.fail(CorpusError("E102", "malformed_element", where=rec.where,
                             problem=f"root element <{root.tag}>", expected=_EXPECTED))
        return rec
    parts: List[str] = []
    offset = 0
    negatives = []
    for sentence in root.iter("sentence"):
        s_text = sentence.get("text")
        s_where = f"{path}:{sentence.sourceline} <sentence id='{sentence.get('id')}'>"
        if s_text is None:
            rec.fail(CorpusError("E102", "malformed_element", where=s_where,
                                 problem="sentence without a 'text' attribute",
                                 expected="<sentence id=.. text=..>"))
            continue
        if not s_text.strip() and not len(sentence):
            # The corpus has empty sentences (71 in Train, none with entities); a Doc cannot
            # hold a sentence without tokens, so they are left out of the text and counted.
            rec.notes["DDI empty sentences (no tokens, not kept)"] += 1
            continue
        if parts:
            offset += 1  # the joining space
        rec.sent_starts.append(offset)
        for entity in sentence.iter("entity"):
            e_where = f"{path}:{entity.sourceline} <entity id='{entity.get('id')}'>"
            frags = []
            for piece in (entity.get("charOffset") or "").split(";"):
                match = _OFFSET_RE.match(piece)
                if match is None:
                    frags = []
                    break
                # Inclusive end in the corpus; exclusive here.
                frags.append((offset + int(match.group(1)), offset + int(match.group(2)) + 1))
            if not frags or not entity.get("id") or not entity.get("type"):
                rec.fail(CorpusError(
                    "E102", "malformed_element", where=e_where,
                    problem=f"charOffset={entity.get('charOffset')!r}, id={entity.get('id')!r}, "
                            f"type={entity.get('type')!r}",
                    expected="id, type and charOffset 'start-end' (inclusive end; "
                             "'s1-e1;s2-e2' if discontinuous)",
                ))
                continue
            frags.sort()
            if len(frags) > 1:
                frags = realign_fragments(" " * offset + s_text, frags, entity.get("text") or "",
                                          rec, "DDI discontinuous entities")
            for s, e in frags:
                if e > offset + len(s_text):
                    # Offsets must stay inside their own sentence, not run into the next one.
                    rec.fail(CorpusError("E103", "offset_out_of_range", where=e_where,
                                         start=s - offset, end=e - offset - 1, doc_id=rec.id,
                                         length=len(s_text)))
            rec.mentions.append(MentionRecord(
                start=frags[0][0], end=max(e for _, e in frags), label=entity.get("type"),
                id=entity.get("id"), text=entity.get("text"),
                fragments=tuple(frags) if len(frags) > 1 else (), where=e_where,
            ))
        for pair in sentence.iter("pair"):
            p_where = f"{path}:{pair.sourceline} <pair id='{pair.get('id')}'>"
            e1, e2, ddi = pair.get("e1"), pair.get("e2"), (pair.get("ddi") or "").lower()
            if not e1 or not e2 or ddi not in ("true", "false"):
                rec.fail(CorpusError("E102", "malformed_element", where=p_where,
                                     problem=f"e1={e1!r}, e2={e2!r}, ddi={pair.get('ddi')!r}",
                                     expected="e1, e2 and ddi='true' or 'false'"))
                continue
            if ddi == "true":
                rec.relations.append(RelationRecord(pair.get("type") or UNTYPED_LABEL, e1, e2,
                                                    "mention", {}, p_where))
            else:
                negatives.append((e1, e2, p_where))
        parts.append(s_text)
        offset += len(s_text)
    rec.text = " ".join(parts)
    rec.passages = [("text", 0, len(rec.text))] if rec.text else []
    known = {m.id for m in rec.mentions}
    for e1, e2, p_where in negatives:
        for ref in (e1, e2):
            if ref not in known:
                rec.fail(CorpusError("E105", "unknown_mention", where=p_where, label="false",
                                     kind="mention", ref=ref, doc_id=rec.id,
                                     known=", ".join(sorted(known)[:10]) or "(no mentions)"))
    rec.notes["DDI negative pairs (ddi='false', kept in user_data)"] += len(negatives)
    rec.meta["negative_pairs"] = [[e1, e2] for e1, e2, _ in negatives]
    return rec


def parse_ddi(path: Union[str, Path]) -> Iterator[DocRecord]:
    """Parse a DDI XML file or folder into document records, one per file."""
    for file in ddi_files(path):
        yield parse_ddi_file(file)


def read_ddi(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
) -> Iterator[Doc]:
    """Read DDI 2013 XML (a file or a folder of them) into Docs with drug mentions, sentences and
    mention-level interactions (see the module docstring).

    path (Union[str, Path]): XML file or folder (searched recursively).
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or a pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid files (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, entities, relations, negative pairs and skips.
    YIELDS (Doc): One per XML file.
    """
    yield from iter_docs(parse_ddi(path), vocab_or_nlp, skip_invalid=skip_invalid, stats=stats)
