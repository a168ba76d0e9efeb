"""BioC XML reader and writer (BC5CDR and BioRED ship BioC), through the `bioc` library.

Reading: each `<document>` becomes a Doc whose text has every passage at its offset (gaps filled
with spaces, so BC5CDR/BioRED give the same text as their PubTator files). Annotations become
mentions (label = "type" infon; concept ID = the "identifier" / "MESH" infon; other infons are
kept in `doc.user_data["spacy_biobert.mention_info"]` and written back). BC5CDR's composite
parts (`CompositeRole` = "IndividualMention", some discontinuous) go to the span group
`doc.spans["individual_mentions"]`, not to "sc", so mention counts equal the PubTator release.
Relations with `<node refid role>`s are mention level (first node / role "head" = head); others are
concept level: head/tail from the "entity1"/"entity2" infons (BioRED) or the two infons besides the
label (BC5CDR "Chemical", "Disease"); the label is the "type" or "relation" infon; remaining infons
(e.g. BioRED "novel") go to `properties`.

Python API:
    read_bioc(path, vocab_or_nlp, *, skip_invalid=False, stats=None) -> Iterator[Doc]
    write_bioc(docs, path_or_file) -> ConversionStats
"""
import datetime
from pathlib import Path
from typing import IO, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from spacy.tokens import Doc, Span

from ..relations.annotations import get_relations
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
    realign_fragments,
)
from .stats import SPANS_KEY, ConversionStats, CorpusError, doc_mentions

INDIVIDUAL_KEY = "individual_mentions"
# Infons that may carry a mention's concept ID, in order of preference.
ID_KEYS = ("identifier", "Identifier", "MESH", "MeSH", "mesh", "NCBI Gene", "kb_id")
_LABEL_KEYS = ("type", "relation")
_EXPECTED = "a BioC XML collection (<collection><document><passage>...)"


def check_utf8(path: Path) -> Optional[CorpusError]:
    """E106 naming the line of the first invalid UTF-8 byte, or None."""
    raw = Path(path).read_bytes()
    try:
        raw.decode("utf8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return CorpusError("E106", "invalid_utf8", where=f"{path}:{line}",
                           cause=f"byte {raw[err.start:err.start + 1]!r}")
    return None


def parse_bioc(path: Union[str, Path]) -> Iterator[DocRecord]:
    """Parse a BioC XML file into document records, one document at a time.

    path (Union[str, Path]): The BioC XML file.
    YIELDS (DocRecord): One per document; invalid ones carry `error`. A file that is empty, not
        UTF-8 or not well-formed yields one invalid record (documents before an XML error are kept).
    """
    from bioc import biocxml
    from lxml import etree

    path = Path(path)
    problem = check_not_empty(path, _EXPECTED) or check_utf8(path)
    if problem is not None:
        yield DocRecord(id=str(path), source=str(path), error=problem)
        return
    n = 0
    try:
        with biocxml.iterparse(str(path)) as reader:
            for document in reader:
                n += 1
                yield _record(document, path, n)
    except (etree.XMLSyntaxError, ValueError, TypeError, AttributeError) as err:
        line = getattr(err, "lineno", None)
        where = f"{path}:{line}" if line else f"{path}, after document {n}"
        yield DocRecord(id=where, source=str(path), error=CorpusError(
            "E109", "invalid_xml", where=where, cause=str(err), expected=_EXPECTED,
        ))


def _record(document, path: Path, n: int) -> DocRecord:
    did = document.id or str(n)
    rec = DocRecord(id=did, source=str(path), where=f"{path}, <document> '{did}'")
    text = ""
    annotations = list(document.annotations)
    relations = list(document.relations)
    for passage in sorted(document.passages, key=lambda p: p.offset):
        where = f"{rec.where} <passage offset={passage.offset}>"
        if passage.offset < len(text):
            rec.fail(CorpusError(
                "E102", "malformed_element", where=where,
                problem=f"passage starts at {passage.offset}, inside the previous passage "
                        f"(which ends at {len(text)})",
                expected="passages in increasing, non-overlapping offsets",
            ))
            continue
        text += " " * (passage.offset - len(text))
        start = len(text)
        text += passage.text or ""
        rec.passages.append((passage.infons.get("type", "passage"), start, len(text)))
        rec.sent_starts.append(start)
        annotations.extend(passage.annotations)
        relations.extend(passage.relations)
        for sentence in passage.sentences:
            annotations.extend(sentence.annotations)
            relations.extend(sentence.relations)
    rec.text = text
    for k, ann in enumerate(annotations):
        where = f"{rec.where} <annotation id='{ann.id}'>"
        if not ann.locations:
            rec.fail(CorpusError("E102", "malformed_element", where=where,
                                 problem="annotation without a <location>",
                                 expected="<location offset='..' length='..'/>"))
            continue
        label = ann.infons.get("type")
        if not label:
            rec.fail(CorpusError("E102", "malformed_element", where=where,
                                 problem="annotation without a 'type' infon",
                                 expected="<infon key=\"type\">LABEL</infon>"))
            continue
        frags = sorted((loc.offset, loc.offset + loc.length) for loc in ann.locations)
        role = ann.infons.get("CompositeRole", "")
        if role == "IndividualMention":
            frags = realign_fragments(text, frags, ann.text or "", rec, "composite-mention parts")
        id_key = next((key for key in ID_KEYS if ann.infons.get(key)), "")
        kb_id = ann.infons[id_key] if id_key else ""
        # Other infons (CompositeRole, PubTator's "individual" column, ...) are kept for writing.
        extra = {k: v for k, v in ann.infons.items() if k not in ("type", id_key)}
        rec.mentions.append(MentionRecord(
            start=frags[0][0], end=max(e for _, e in frags), label=label, kb_id=kb_id,
            id=ann.id or f"A{k}", text=ann.text, fragments=tuple(frags) if len(frags) > 1 else (),
            extra=extra,
            group=INDIVIDUAL_KEY if role == "IndividualMention" else SPANS_KEY, where=where,
        ))
    for rel in relations:
        where = f"{rec.where} <relation id='{rel.id}'>"
        infons = dict(rel.infons)
        label = next((infons.pop(key) for key in _LABEL_KEYS if key in infons), "")
        if not label:
            rec.fail(CorpusError("E102", "malformed_element", where=where,
                                 problem="relation without a 'type' or 'relation' infon",
                                 expected="<infon key=\"type\">LABEL</infon>"))
            continue
        if rel.nodes:
            nodes = sorted(rel.nodes, key=lambda node: {"head": 0, "tail": 1}.get(node.role, 2))
            if len(nodes) != 2:
                rec.fail(CorpusError("E102", "malformed_element", where=where,
                                     problem=f"relation with {len(nodes)} nodes",
                                     expected="two <node refid=.. role=..> (head, tail)"))
                continue
            rec.relations.append(RelationRecord(label, nodes[0].refid, nodes[1].refid, "mention",
                                                infons, where))
            continue
        if "entity1" in infons and "entity2" in infons:
            head, tail = infons.pop("entity1"), infons.pop("entity2")
        else:
            args = [k for k in infons if k != "novel"]
            if len(args) != 2:
                rec.fail(CorpusError("E102", "malformed_element", where=where,
                                     problem=f"cannot tell the two concepts from infons {sorted(infons)}",
                                     expected="'entity1' and 'entity2' infons (or exactly two "
                                              "concept infons such as 'Chemical' and 'Disease')"))
                continue
            head, tail = infons.pop(args[0]), infons.pop(args[1])
        rec.relations.append(RelationRecord(label, head, tail, "concept", infons, where))
    return rec


def read_bioc(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
) -> Iterator[Doc]:
    """Read a BioC XML collection into Docs (see the module docstring for the mapping).

    path (Union[str, Path]): The BioC XML file.
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or a pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid documents (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, mentions, relations and skips; composite parts
        are counted in `stats.other`.
    YIELDS (Doc): One per document.
    """
    for doc in iter_docs(parse_bioc(path), vocab_or_nlp, skip_invalid=skip_invalid, stats=stats):
        if stats is not None and INDIVIDUAL_KEY in doc.spans:
            stats.other["composite-mention parts (spans['individual_mentions'])"] += len(
                doc.spans[INDIVIDUAL_KEY]
            )
        yield doc


def _bioc_document(doc: Doc, default_id: str, stats: ConversionStats):
    import bioc

    document = bioc.BioCDocument()
    document.id = doc_id(doc, default_id)
    text = doc.text
    passages = [tuple(p) for p in doc.user_data.get(META_KEY, {}).get("passages") or []]
    if not passages:
        passages = [("text", 0, len(text))]
    bioc_passages = []
    for kind, start, end in passages:
        passage = bioc.BioCPassage()
        passage.infons["type"] = kind
        passage.offset = start
        passage.text = text[start:end]
        document.add_passage(passage)
        bioc_passages.append((start, end, passage))
    info = doc.user_data.get(MENTION_INFO_KEY, {})
    ids: Dict[Tuple[int, int, str], str] = {}
    used = set()

    def add(span: Span, group: str) -> str:
        ann = bioc.BioCAnnotation()
        ann_id = span.id_ if span.id_ and span.id_ not in used else f"A{len(used)}"
        used.add(ann_id)
        ann.id = ann_id
        ann.infons["type"] = span.label_
        if span.kb_id_:
            ann.infons["identifier"] = span.kb_id_
        details = info.get(span.id_, {}) if span.id_ else {}
        for key, value in details.get("extra", {}).items():
            ann.infons[key] = value
        if group == INDIVIDUAL_KEY:
            ann.infons["CompositeRole"] = "IndividualMention"
        frags = [tuple(f) for f in details.get("fragments") or []] or [(span.start_char, span.end_char)]
        for s, e in frags:
            ann.add_location(bioc.BioCLocation(s, e - s))
        ann.text = " ".join(text[s:e] for s, e in frags)
        target = next((p for s, e, p in bioc_passages if s <= span.start_char < max(e, s + 1)),
                      bioc_passages[-1][2])
        target.add_annotation(ann)
        ids.setdefault((span.start, span.end, span.label_), ann_id)
        return ann_id

    groups = [(SPANS_KEY, doc_mentions(doc))]
    if INDIVIDUAL_KEY in doc.spans:
        groups.append((INDIVIDUAL_KEY, doc.spans[INDIVIDUAL_KEY]))
    for group, spans in groups:
        for span in spans:
            add(span, group)
    for k, rel in enumerate(get_relations(doc)):
        relation = bioc.BioCRelation()
        relation.id = f"R{k}"
        relation.infons["type"] = rel.label
        if rel.level == "mention":
            for mention, role in ((rel.head, "head"), (rel.tail, "tail")):
                key = (mention.start, mention.end, mention.label)
                ref = ids.get(key) or add(mention.span(doc), SPANS_KEY)
                relation.add_node(bioc.BioCNode(ref, role))
        else:
            relation.infons["entity1"] = rel.head_id
            relation.infons["entity2"] = rel.tail_id
        for key, value in rel.properties.items():
            relation.infons[key] = value
        document.add_relation(relation)
    stats.add_doc(doc)
    return document


def write_bioc(docs: Iterable[Doc], path_or_file: Union[str, Path, IO[str]]) -> ConversionStats:
    """Write Docs as a BioC XML collection (inverse of `read_bioc`: reading the output gives the
    same text, mentions, concept IDs, composite parts and relations).

    Passages come from the reader's metadata (title / abstract), else one "text" passage.
    Mentions are `doc.spans["sc"]`, any other `doc.ents`, and `spans["individual_mentions"]`;
    concept-level relations use "type", "entity1", "entity2" infons (plus `properties`), and
    mention-level ones two `<node>`s with roles "head" and "tail".

    docs (Iterable[Doc]): Documents. path_or_file (Union[str, Path, IO[str]]): Output path
        (written to a temporary file and renamed: no partial output) or an open text file.
    RETURNS (ConversionStats): What was written.
    """
    import bioc
    from bioc import biocxml

    stats = ConversionStats()
    collection = bioc.BioCCollection()
    collection.source = "spacy-biobert"
    collection.date = datetime.date.today().isoformat()
    collection.key = "BioC.key"
    for i, doc in enumerate(docs):
        collection.add_document(_bioc_document(doc, str(i), stats))
    if isinstance(path_or_file, (str, Path)):
        with atomic_output(Path(path_or_file)) as fh:
            biocxml.dump(collection, fh)
    else:
        biocxml.dump(collection, path_or_file)
    return stats


__all__: List[str] = ["read_bioc", "write_bioc", "parse_bioc", "INDIVIDUAL_KEY"]
