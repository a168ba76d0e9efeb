"""ChemProt (BioCreative VI) original TSV reader: abstracts, entities and relations.

Files of one split (e.g. `chemprot_development/`):
- `*_abstracts.tsv`: `PMID<TAB>title<TAB>abstract`
- `*_entities.tsv`: `PMID<TAB>T#<TAB>type<TAB>start<TAB>end<TAB>text` (CHEMICAL, GENE-Y, GENE-N;
  offsets over `title + <one separator> + abstract`, end exclusive)
- `*_gold_standard.tsv`: `PMID<TAB>CPR:n<TAB>Arg1:T#<TAB>Arg2:T#` (evaluated groups CPR:3,4,5,6,9)
- `*_relations.tsv`: `PMID<TAB>CPR:n<TAB>Y |N <TAB>fine label<TAB>Arg1:T#<TAB>Arg2:T#` (all)

Each abstract becomes a Doc with text `title + " " + abstract` (so the offsets hold), mentions
(`id_` = T#) and mention-level relations: head = Arg1 (the chemical), tail = Arg2 (the gene),
label = the CPR group. With `relations="all"` the properties hold {"eval": "Y"|"N",
"fine_label": ...}.

Python API:
    read_chemprot(path, vocab_or_nlp, *, skip_invalid=False, stats=None, relations="gold")
        -> Iterator[Doc]
"""
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from spacy.tokens import Doc

from .docbuilder import (
    DocRecord,
    MentionRecord,
    RelationRecord,
    VocabOrNlp,
    check_not_empty,
    iter_docs,
    read_text_lines,
)
from .stats import ConversionStats, CorpusError

RELATION_SETS = ("gold", "all", "none")


def _find_files(path: Path, relations: str) -> Dict[str, Optional[Path]]:
    if path.is_file():
        if "_abstracts" not in path.name:
            raise CorpusError("E108", "missing_input", path=path,
                              problem="is not a ChemProt *_abstracts*.tsv file",
                              expected="a ChemProt split folder or its *_abstracts.tsv file")
        folder, prefix = path.parent, path.name.split("_abstracts")[0]
        abstracts = [path]
    else:
        folder = path
        abstracts = sorted(folder.glob("*_abstracts*.tsv"))
        if len(abstracts) != 1:
            raise CorpusError(
                "E108", "missing_input", path=path,
                problem=f"holds {len(abstracts)} *_abstracts*.tsv files",
                expected="a ChemProt split folder with one *_abstracts.tsv, *_entities.tsv and "
                         "*_gold_standard.tsv / *_relations.tsv",
            )
        prefix = abstracts[0].name.split("_abstracts")[0]

    def one(kind: str) -> Optional[Path]:
        found = sorted(folder.glob(f"{prefix}_{kind}*.tsv"))
        return found[0] if found else None

    files = {"abstracts": abstracts[0], "entities": one("entities"),
             "gold": one("gold_standard"), "all": one("relations")}
    needed = ["entities"] + ([relations] if relations != "none" else [])
    for kind in needed:
        if files[kind] is None:
            name = {"entities": "entities", "gold": "gold_standard", "all": "relations"}[kind]
            raise CorpusError("E108", "missing_input", path=folder,
                              problem=f"has no {prefix}_{name}*.tsv",
                              expected=f"the split's {name} file beside {abstracts[0].name}")
    return files


def parse_chemprot(path: Union[str, Path], *, relations: str = "gold") -> Iterator[DocRecord]:
    """Parse a ChemProt split into document records.

    path (Union[str, Path]): The split folder or its abstracts file.
    relations (str): "gold", "all" or "none" (see the module docstring).
    YIELDS (DocRecord): One per abstract, in the abstracts file's order.
    """
    if relations not in RELATION_SETS:
        raise CorpusError("E112", "invalid_setting", name="relations", value=relations,
                          expected=" or ".join(repr(r) for r in RELATION_SETS))
    files = _find_files(Path(path), relations)
    for kind in ("abstracts", "entities"):
        empty = check_not_empty(files[kind], f"ChemProt {kind} lines")
        if empty is not None:
            yield DocRecord(id=str(files[kind]), source=str(files[kind]), error=empty)
            return
    docs: "OrderedDict[str, DocRecord]" = OrderedDict()
    orphans: List[DocRecord] = []
    src = files["abstracts"]
    for lineno, line, utf8_err in read_text_lines(src):
        where = f"{src}:{lineno}"
        if not line.strip():
            continue
        fields = line.split("\t")
        if utf8_err is not None or len(fields) != 3:
            rec = DocRecord(id=fields[0] or where, source=str(src), where=where)
            rec.fail(utf8_err or CorpusError(
                "E102", "malformed_line", where=where,
                problem=f"abstract line with {len(fields)} tab-separated fields",
                expected="PMID<TAB>title<TAB>abstract",
            ))
            orphans.append(rec)
            continue
        pmid, title, abstract = fields
        if pmid in docs:
            docs[pmid].fail(CorpusError("E102", "duplicate_document", where=where,
                                        problem=f"PMID '{pmid}' occurs twice",
                                        expected="one line per abstract"))
            continue
        text = f"{title} {abstract}"
        docs[pmid] = DocRecord(
            id=pmid, source=str(src), where=where, text=text,
            passages=[("title", 0, len(title)), ("abstract", len(title) + 1, len(text))],
            sent_starts=[len(title) + 1],
        )

    def target(pmid: str, where: str, what: str) -> Optional[DocRecord]:
        rec = docs.get(pmid)
        if rec is None:
            bad = DocRecord(id=pmid, source=where, where=where)
            bad.fail(CorpusError("E102", "unknown_document", where=where,
                                 problem=f"{what} for PMID '{pmid}', which is not in {src.name}",
                                 expected="PMIDs of the abstracts file"))
            orphans.append(bad)
        return rec

    def rows(path: Path, what: str) -> Iterator[Tuple[str, str, List[str], DocRecord]]:
        """(where, line, fields, abstract record) for each non-blank line of an entities or
        relations file; lines of unknown PMIDs or with invalid UTF-8 are failed on the spot."""
        for lineno, line, utf8_err in read_text_lines(path):
            where = f"{path}:{lineno}"
            if not line.strip():
                continue
            fields = line.split("\t")
            rec = target(fields[0], where, what)
            if rec is None:
                continue
            if utf8_err is not None:
                rec.fail(utf8_err)
                continue
            yield where, line, fields, rec

    for where, line, fields, rec in rows(files["entities"], "entity"):
        if len(fields) != 6 or not fields[3].isdigit() or not fields[4].isdigit():
            rec.fail(CorpusError("E102", "malformed_line", where=where,
                                 problem=f"entity line {line[:80]!r}",
                                 expected="PMID<TAB>T#<TAB>type<TAB>start<TAB>end<TAB>text"))
            continue
        rec.mentions.append(MentionRecord(
            start=int(fields[3]), end=int(fields[4]), label=fields[2], id=fields[1],
            text=fields[5], where=where,
        ))
    if relations != "none":
        rel_file = files[relations]
        assert rel_file is not None
        n_fields = 4 if relations == "gold" else 6
        expected = ("PMID<TAB>CPR:n<TAB>Arg1:T#<TAB>Arg2:T#" if relations == "gold" else
                    "PMID<TAB>CPR:n<TAB>Y|N<TAB>label<TAB>Arg1:T#<TAB>Arg2:T#")
        for where, line, fields, rec in rows(rel_file, "relation"):
            args = fields[-2:]
            if len(fields) != n_fields or not (args[0].startswith("Arg1:") and args[1].startswith("Arg2:")):
                rec.fail(CorpusError("E102", "malformed_line", where=where,
                                     problem=f"relation line {line[:80]!r}", expected=expected))
                continue
            props = {} if relations == "gold" else {"eval": fields[2].strip(),
                                                    "fine_label": fields[3].strip()}
            rec.relations.append(RelationRecord(fields[1].strip(), args[0][5:], args[1][5:],
                                                "mention", props, where))
    yield from orphans
    yield from docs.values()


def read_chemprot(
    path: Union[str, Path],
    vocab_or_nlp: VocabOrNlp,
    *,
    skip_invalid: bool = False,
    stats: Optional[ConversionStats] = None,
    relations: str = "gold",
) -> Iterator[Doc]:
    """Read a ChemProt split (folder or abstracts file) into Docs with mentions and
    mention-level CPR relations (see the module docstring).

    path (Union[str, Path]): The split folder (e.g. chemprot_development/) or its abstracts file.
    vocab_or_nlp (Union[Vocab, Language]): Vocab, or a pipeline whose tokenizer to use.
    skip_invalid (bool): Skip invalid abstracts (counted in `stats.skipped`) instead of raising.
    stats (Optional[ConversionStats]): Counts docs, entities, relations and skips.
    relations (str): "gold" (evaluated CPR:3,4,5,6,9; default), "all" or "none".
    YIELDS (Doc): One per abstract.
    """
    records = parse_chemprot(path, relations=relations)
    yield from iter_docs(records, vocab_or_nlp, skip_invalid=skip_invalid, stats=stats)
