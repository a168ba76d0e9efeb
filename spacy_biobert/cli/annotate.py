"""`spacy-biobert annotate MODEL INPUT OUTPUT`: run a pipeline over raw text, stream the results out.

Input: plain text (a directory with a file per document, or a file with a document per line), JSONL
(`{"id": ..., "text": ...}` per line) or PubTator (title and abstract lines; annotation lines are
ignored, since the pipeline predicts its own). Output: JSONL (entities with character offsets,
labels and IDs; relations with scores), PubTator (mentions and relation lines) or BioC XML.

Everything streams: records are read lazily, `nlp.pipe` works in batches (optionally in several
processes) and each doc is written as soon as it comes out, so memory stays flat however long the
input. A record that cannot be annotated is reported with its file:line, skipped and counted; it
never stops the run.
"""
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import typer
from wasabi import msg

from ..errors import BioBertError, make_error
from ._app import app

INPUT_FORMATS = ("auto", "text", "lines", "jsonl", "pubtator")
OUTPUT_FORMATS = ("auto", "jsonl", "pubtator", "bioc")
# Keys under which a doc's identity is kept: our own (written here and read by the writers) and
# the corpus readers' metadata, when the text came from a corpus file.
DOC_ID_KEY = "id"


@dataclass
class InputRecord:
    """One document to annotate.

    id (str): Document ID (from the input, or derived from file name and line).
    text (str): The text (for PubTator: title + " " + abstract, as PubTator offsets count).
    where (str): file:line, for messages.
    passages (List[Tuple[str, int, int]]): (type, start, end) character ranges, e.g. title and
        abstract, which the PubTator and BioC writers keep.
    """

    id: str
    text: str
    where: str
    passages: List[Tuple[str, int, int]] = field(default_factory=list)


@dataclass
class BadRecord:
    """A record that cannot be annotated, with its location and why."""

    where: str
    reason: str


@dataclass
class AnnotateStats:
    """What a run did: documents in and out, what was skipped and why."""

    n_docs: int = 0
    n_entities: int = 0
    n_relations: int = 0
    skipped: List[BadRecord] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)


Record = Union[InputRecord, BadRecord]


# ---------------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------------


def detect_input_format(path: Path) -> str:
    """Guess the input format: a directory is a file per document; `.jsonl`/`.json` is JSONL; a
    file whose first non-empty line looks like `ID|t|title` is PubTator; anything else is a
    document per line.

    path (Path): The input.
    RETURNS (str): "text", "jsonl", "pubtator" or "lines".
    """
    if path.is_dir():
        return "text"
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    with path.open("rb") as f:
        for raw in f:
            line = raw.decode("utf8", errors="replace").strip()
            if not line:
                continue
            parts = line.split("|", 2)
            if len(parts) == 3 and parts[1] in ("t", "a") and parts[0] and " " not in parts[0]:
                return "pubtator"
            return "lines"
    return "lines"


def _decode(raw: bytes, where: str) -> Union[str, BadRecord]:
    try:
        return raw.decode("utf8")
    except UnicodeDecodeError as err:
        return BadRecord(where, f"invalid UTF-8 ({err.reason} at byte {err.start}); expected UTF-8 text")


def read_text_files(path: Path) -> Iterator[Record]:
    """A document per `*.txt` file of a directory (sorted by name), the file stem as its ID."""
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
    for p in files:
        text = _decode(p.read_bytes(), str(p))
        if isinstance(text, BadRecord):
            yield text
        elif not text.strip():
            yield BadRecord(str(p), "empty document")
        else:
            yield InputRecord(p.stem, text, str(p))


def _decoded_lines(path: Path) -> Iterator[Tuple[int, str, Union[str, BadRecord]]]:
    """(line number, where, text or the BadRecord of a line that is not UTF-8), read lazily."""
    with path.open("rb") as f:
        for i, raw in enumerate(f, 1):
            where = f"{path}:{i}"
            yield i, where, _decode(raw, where)


def read_lines(path: Path) -> Iterator[Record]:
    """A document per non-empty line; the ID is `<file stem>:<line number>`."""
    for i, where, text in _decoded_lines(path):
        if isinstance(text, BadRecord):
            yield text
            continue
        text = text.rstrip("\r\n")
        if text.strip():
            yield InputRecord(f"{path.stem}:{i}", text, where)


def read_jsonl(path: Path) -> Iterator[Record]:
    """A document per line, `{"id": ..., "text": ...}`; the ID defaults to the line number."""
    for i, where, line in _decoded_lines(path):
        if isinstance(line, BadRecord):
            yield line
            continue
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            yield BadRecord(where, f"not valid JSON ({err.msg} at column {err.colno}); "
                                   'expected {"id": ..., "text": ...}')
            continue
        if not isinstance(data, dict):
            yield BadRecord(where, f"a JSON {type(data).__name__}, expected an object "
                                   '{"id": ..., "text": ...}')
            continue
        text = data.get("text")
        if not isinstance(text, str):
            yield BadRecord(where, 'no string field "text"')
            continue
        if not text.strip():
            yield BadRecord(where, "empty document")
            continue
        yield InputRecord(str(data.get("id", f"{path.stem}:{i}")), text, where)


def read_pubtator_texts(path: Path) -> Iterator[Record]:
    """Title and abstract of each PubTator document, streamed by the corpus parser.

    Annotation lines are parsed but not used (the pipeline predicts its own). A malformed line is
    reported and counted as a bad record; its document is still annotated when it has text.
    """
    from ..corpora.pubtator import parse_pubtator

    for rec in parse_pubtator(path):
        where = rec.where or rec.source or str(path)
        if rec.error is not None:
            # The error names its own line (a stray line may be charged to the document before it):
            # report and count it; annotate the document only if it has text.
            reason = str(rec.error).split("] ", 1)[-1].rstrip(".")
            yield BadRecord(reason.split(": ", 1)[0] if reason.startswith(str(path)) else where,
                            reason.split(": ", 1)[-1] if reason.startswith(str(path)) else reason)
            if not rec.text.strip():
                continue
        if not rec.text.strip():
            yield BadRecord(where, "empty document")
        else:
            yield InputRecord(rec.id, rec.text, where, list(rec.passages))


READERS: Dict[str, Callable[[Path], Iterator[Record]]] = {
    "text": read_text_files,
    "lines": read_lines,
    "jsonl": read_jsonl,
    "pubtator": read_pubtator_texts,
}


def read_records(path: Path, input_format: str = "auto") -> Iterator[Record]:
    """Stream the documents of `path` in `input_format` ("auto" to detect it).

    path (Path): A file, or a directory of `.txt` files.
    input_format (str): One of "auto", "text", "lines", "jsonl", "pubtator".
    YIELDS (Union[InputRecord, BadRecord]): Documents, and records that could not be read.
    """
    if not path.exists():
        raise make_error("E301", path=path)
    if input_format not in INPUT_FORMATS:
        raise make_error("E302", kind="input", format=input_format, formats=", ".join(INPUT_FORMATS))
    fmt = detect_input_format(path) if input_format == "auto" else input_format
    if fmt == "text" and not path.is_dir():
        # One file, one document.
        text = _decode(path.read_bytes(), str(path))
        if isinstance(text, BadRecord):
            yield text
        elif not text.strip():
            yield BadRecord(str(path), "empty document")
        else:
            yield InputRecord(path.stem, text, str(path))
        return
    if fmt != "text" and path.is_dir():
        raise make_error("E303", path=path, format=fmt)
    yield from READERS[fmt](path)


# ---------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------


def _mention_json(doc, start: int, end: int, label: str, kb_id: str) -> Dict[str, Any]:
    span = doc[start:end]
    return {"start": span.start_char, "end": span.end_char, "label": label, "kb_id": kb_id,
            "text": span.text}


def doc_to_json(doc, doc_id: str) -> Dict[str, Any]:
    """The JSONL record for an annotated doc: character offsets throughout, so it stands alone.

    doc (Doc): The annotated doc.
    doc_id (str): Its ID.
    RETURNS (Dict[str, Any]): {"id", "text", "entities", "relations"}; relations carry "head" and
        "tail" mentions (mention level) or "head_id"/"tail_id" with their mentions (concept level),
        and a "score".
    """
    from ..relations.annotations import get_relations

    ents = [_mention_json(doc, e.start, e.end, e.label_, e.kb_id_) for e in doc.ents]
    rels = []
    for rel in get_relations(doc):
        item: Dict[str, Any] = {"label": rel.label, "score": round(rel.score, 6)}
        if rel.level == "mention":
            item["head"] = _mention_json(doc, rel.head.start, rel.head.end, rel.head.label, rel.head.kb_id)
            item["tail"] = _mention_json(doc, rel.tail.start, rel.tail.end, rel.tail.label, rel.tail.kb_id)
        else:
            item["head_id"], item["tail_id"] = rel.head_id, rel.tail_id
            item["head_mentions"] = [_mention_json(doc, m.start, m.end, m.label, m.kb_id)
                                     for m in rel.head_mentions]
            item["tail_mentions"] = [_mention_json(doc, m.start, m.end, m.label, m.kb_id)
                                     for m in rel.tail_mentions]
        if rel.properties:
            item["properties"] = dict(rel.properties)
        rels.append(item)
    return {"id": doc_id, "text": doc.text, "entities": ents, "relations": rels}


def json_to_doc(nlp_or_vocab, data: Dict[str, Any]):
    """Rebuild a Doc (entities and relations) from a record written by `doc_to_json`.

    nlp_or_vocab (Union[Language, Vocab]): Tokenizer source; a blank English one for a Vocab.
    data (Dict[str, Any]): The record.
    RETURNS (Doc): The doc, with `doc.user_data["id"]` set.
    """
    import spacy
    from spacy.language import Language
    from spacy.tokens import Span
    from spacy.util import filter_spans

    from ..relations.annotations import Mention, Relation, set_relations

    nlp = nlp_or_vocab if isinstance(nlp_or_vocab, Language) else spacy.blank("en", vocab=nlp_or_vocab)
    doc = nlp.make_doc(data["text"])

    def span(m: Dict[str, Any]) -> Optional[Span]:
        return doc.char_span(m["start"], m["end"], label=m["label"], kb_id=m.get("kb_id", ""),
                             alignment_mode="expand")

    def mention(m: Dict[str, Any]) -> Optional[Mention]:
        s = span(m)
        return Mention(s.start, s.end, m["label"], m.get("kb_id", "")) if s is not None else None

    doc.ents = filter_spans([s for s in (span(m) for m in data.get("entities", ())) if s is not None])
    rels = []
    for r in data.get("relations", ()):
        common = {"label": r["label"], "score": r.get("score", 1.0), "properties": r.get("properties", {})}
        if r.get("head") is not None:
            head, tail = mention(r["head"]), mention(r["tail"])
            if head is not None and tail is not None:
                rels.append(Relation(head=head, tail=tail, **common))
        else:
            rels.append(Relation(
                head_id=r.get("head_id", ""), tail_id=r.get("tail_id", ""),
                head_mentions=tuple(m for m in map(mention, r.get("head_mentions", ())) if m),
                tail_mentions=tuple(m for m in map(mention, r.get("tail_mentions", ())) if m),
                **common,
            ))
    set_relations(doc, rels)
    doc.user_data[DOC_ID_KEY] = data.get("id", "")
    return doc


def write_jsonl(docs: Iterable, path: Path) -> int:
    """Write docs as JSONL (see `doc_to_json`), one line per doc as it arrives.

    docs (Iterable[Doc]): Annotated docs with `doc.user_data["id"]`.
    path (Path): Output file (written to a temporary file and renamed when complete).
    RETURNS (int): Documents written.
    """
    from ..corpora.docbuilder import atomic_output

    n = 0
    with atomic_output(path) as f:
        for doc in docs:
            f.write(json.dumps(doc_to_json(doc, str(doc.user_data.get(DOC_ID_KEY, n))),
                               ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_pubtator(docs: Iterable, path: Path) -> None:
    from ..corpora import write_pubtator

    write_pubtator(docs, path)


def _write_bioc(docs: Iterable, path: Path) -> None:
    from ..corpora import write_bioc

    write_bioc(docs, path)


WRITERS: Dict[str, Callable[[Iterable, Path], Any]] = {
    "jsonl": write_jsonl, "pubtator": _write_pubtator, "bioc": _write_bioc,
}


def fill_entity_ids(doc, lookup: Optional[Callable] = None) -> None:
    """Give predicted entities concept IDs: those their relations use, else `lookup`'s.

    NER predicts no IDs; the relation extractor takes them from its training lexicon and writes them
    on the relations' mentions. Copying them to `doc.ents` keeps every output self-consistent
    (a PubTator relation line names IDs that its mention lines carry). IDs already set are kept.

    doc (Doc): An annotated doc.
    lookup (Optional[Callable[[Span], List[str]]]): IDs for a mention in no relation, e.g. the
        relation extractor's `concept_ids` (its training lexicon).
    """
    from spacy.tokens import Span

    from ..relations.annotations import get_relations

    ids: Dict[Tuple[int, int], str] = {}
    for rel in get_relations(doc):
        for m in (rel.head, rel.tail, *rel.head_mentions, *rel.tail_mentions):
            if m is not None and m.kb_id:
                ids.setdefault((m.start, m.end), m.kb_id)
    if lookup is not None:
        for e in doc.ents:
            if not e.kb_id_ and (e.start, e.end) not in ids:
                found = lookup(e)
                if found:
                    ids[(e.start, e.end)] = "|".join(found)
    if not any(not e.kb_id_ and (e.start, e.end) in ids for e in doc.ents):
        return
    doc.ents = [
        Span(doc, e.start, e.end, label=e.label, kb_id=ids[(e.start, e.end)])
        if not e.kb_id_ and (e.start, e.end) in ids else e
        for e in doc.ents
    ]


def set_doc_meta(doc, record: InputRecord) -> None:
    """Give a predicted doc its ID and passages where the corpus writers look for them."""
    from ..corpora.docbuilder import META_KEY

    doc.user_data[DOC_ID_KEY] = record.id
    passages = record.passages or [("text", 0, len(doc.text))]
    meta = dict(doc.user_data.get(META_KEY) or {})
    meta.update({"id": record.id, "source": record.where, "passages": [tuple(p) for p in passages]})
    doc.user_data[META_KEY] = meta


def detect_output_format(path: Path) -> str:
    """"bioc" for `.xml`, "pubtator" for `.pubtator`/`.txt`/`.pubtator.txt`, else "jsonl"."""
    name = path.name.lower()
    if name.endswith(".xml"):
        return "bioc"
    if name.endswith((".pubtator", ".pubtator.txt", ".txt")):
        return "pubtator"
    return "jsonl"


def output_format_for(path: Path, output_format: str = "auto") -> str:
    """The output format to write ("auto": from the file name)."""
    if output_format not in OUTPUT_FORMATS:
        raise make_error("E302", kind="output", format=output_format, formats=", ".join(OUTPUT_FORMATS))
    return detect_output_format(path) if output_format == "auto" else output_format


# ---------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------


def annotate(
    nlp,
    records: Iterable[Record],
    *,
    stats: AnnotateStats,
    batch_size: int = 32,
    n_process: int = 1,
    progress: bool = True,
    on_bad: Optional[Callable[[BadRecord], None]] = None,
    memory_zone: int = 0,
) -> Iterator:
    """Annotate `records` with `nlp`, yielding each doc as it comes out of `nlp.pipe`.

    nlp (Language): The pipeline.
    records (Iterable[Union[InputRecord, BadRecord]]): Input, e.g. from `read_records`.
    stats (AnnotateStats): Updated with counts and skipped records as the docs stream through.
    batch_size (int): Documents per `nlp.pipe` batch.
    n_process (int): Processes for `nlp.pipe`.
    progress (bool): Show a tqdm progress bar on stderr.
    on_bad (Optional[Callable[[BadRecord], None]]): Called for each skipped record.
    memory_zone (int): With one process, run every this many documents inside a spaCy memory
        zone (`nlp.memory_zone()`), so the strings, lexemes and tokenizer-cache entries that
        their new words add are freed when the zone ends: without it, the StringStore grows
        with every word never seen before, which is most of a long input's memory growth
        (benchmarks/annotate_memory.py). A doc is only valid until the next one is requested:
        use it (write it out) and drop it. 0: no zones, docs may be kept.
    YIELDS (Doc): Annotated docs, with their ID and passages set for the writers.
    """
    from tqdm import tqdm

    from ..relations.annotations import get_relations

    max_length = nlp.max_length
    # The relation extractor's lexicon (mention text -> concept ID from its training data), if any.
    lookup = next((getattr(p, "concept_ids") for _, p in nlp.pipeline
                   if callable(getattr(p, "concept_ids", None))), None)

    def good() -> Iterator[Tuple[str, InputRecord]]:
        for rec in records:
            if isinstance(rec, InputRecord) and len(rec.text) > max_length:
                rec = BadRecord(rec.where, f"{len(rec.text):,} characters, more than nlp.max_length "
                                           f"({max_length:,}); split the document or raise the limit")
            if isinstance(rec, BadRecord):
                stats.skipped.append(rec)
                if on_bad is not None:
                    on_bad(rec)
                continue
            yield rec.text, rec

    def annotated(stream: Iterable[Tuple[str, InputRecord]], n_proc: int) -> Iterator:
        for doc, rec in nlp.pipe(stream, as_tuples=True, batch_size=batch_size, n_process=n_proc):
            set_doc_meta(doc, rec)
            fill_entity_ids(doc, lookup)
            stats.n_docs += 1
            stats.n_entities += len(doc.ents)
            stats.n_relations += len(get_relations(doc))
            bar.update(1)
            yield doc

    bar = tqdm(desc="Annotating", unit=" docs", disable=not progress, file=sys.stderr,
               mininterval=1.0, dynamic_ncols=True)
    try:
        # spaCy's worker processes cannot enter memory zones, and one nlp.pipe per zone would
        # restart them: zones are for a single process only.
        if memory_zone <= 0 or n_process != 1:
            yield from annotated(good(), n_process)
            return
        stream = good()
        while True:
            head = next(stream, None)
            if head is None:
                break
            # Still lazy: the zone's records are pulled from the input as nlp.pipe needs them.
            with nlp.memory_zone():
                yield from annotated(chain([head], islice(stream, memory_zone - 1)), 1)
    finally:
        bar.close()


@app.command("annotate")
def annotate_cli(
    model: str = typer.Argument(..., help="Pipeline to run: installed package name or directory"),
    input_path: Path = typer.Argument(..., help="Text file (a document per line), directory of .txt files, JSONL or PubTator"),
    output_path: Path = typer.Argument(..., help="Output file: .jsonl, .pubtator / .txt (PubTator) or .xml (BioC)"),
    input_format: str = typer.Option("auto", "--input-format", "-i", help=f"One of {', '.join(INPUT_FORMATS)}; 'text' reads a file as one document"),
    output_format: str = typer.Option("auto", "--output-format", "-o", help=f"One of {', '.join(OUTPUT_FORMATS)}"),
    batch_size: int = typer.Option(32, "--batch-size", "-b", help="Documents per batch"),
    n_process: int = typer.Option(1, "--n-process", "-n", help="Processes to annotate with (CPU)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use, -1 for CPU"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar"),
    memory_zone: int = typer.Option(10_000, "--memory-zone", help="Documents per spaCy memory zone: the strings their new words add are freed at its end, so memory stays flat (0: off; single process only)"),
) -> None:
    """Annotate raw text with a trained pipeline: entities with offsets, labels and IDs, relations
    with scores. Streams, so memory stays flat; bad records are reported, skipped and counted."""
    import spacy

    import spacy_biobert  # noqa: F401  (registers everything, for pipelines saved as directories)

    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    try:
        records = read_records(input_path, input_format)
        first = next(records, None)  # surfaces input errors before the model loads
        output_format_for(output_path, output_format)
    except BioBertError as err:
        msg.fail(str(err), exits=1)
    fmt = output_format_for(output_path, output_format)
    msg.info(f"Loading pipeline '{model}'")
    nlp = spacy.load(model)
    msg.good(f"Loaded: {', '.join(nlp.pipe_names)}")

    def report(bad: BadRecord) -> None:
        msg.warn(str(make_error("E304", where=bad.where, reason=bad.reason)))

    def all_records() -> Iterator[Record]:
        if first is not None:
            yield first
        yield from records

    stats = AnnotateStats()
    docs = annotate(nlp, all_records(), stats=stats, batch_size=batch_size, n_process=n_process,
                    progress=progress, on_bad=report, memory_zone=memory_zone)
    WRITERS[fmt](docs, output_path)
    msg.good(f"Annotated {stats.n_docs:,} documents: {stats.n_entities:,} entities, "
             f"{stats.n_relations:,} relations -> {output_path}")
    if stats.n_skipped:
        reasons = Counter(b.reason.split(";")[0].split(" (")[0] for b in stats.skipped)
        msg.warn(f"Skipped {stats.n_skipped:,} bad record(s): "
                 + "; ".join(f"{n} x {r}" for r, n in reasons.most_common()))
    else:
        msg.text("Skipped 0 records.")
