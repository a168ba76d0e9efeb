"""Raw text for pre-training: plain text, JSONL, PubTator and spaCy DocBins, one document per text.

Only the running text matters here, so annotations in PubTator files and DocBins are ignored.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..errors import make_error

FORMATS = ("auto", "text", "jsonl", "pubtator", "docbin")
# Suffixes picked up when a directory is given; other files there are counted as skipped.
_SUFFIX_FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".pubtator": "pubtator",
    ".spacy": "docbin",
}
# "PMID|t|title" or "PMID|a|abstract": the first line of a PubTator document.
_PUBTATOR_LINE = re.compile(r"^([^|\s]+)\|([ta])\|(.*)$")


@dataclass
class TextStats:
    """What was read: documents per file, and what was skipped with the reason."""

    n_docs: int = 0
    n_chars: int = 0
    files: Dict[str, int] = field(default_factory=dict)
    skipped: List[Tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        out = f"{self.n_docs} documents ({self.n_chars:,} characters) from {len(self.files)} file(s)"
        if self.skipped:
            out += f"; skipped {len(self.skipped)}: " + "; ".join(f"{w} ({r})" for w, r in self.skipped[:5])
            if len(self.skipped) > 5:
                out += f"; ... and {len(self.skipped) - 5} more"
        return out


def read_texts(
    paths: Sequence[Union[str, Path]], *, fmt: str = "auto", stats: Optional[TextStats] = None
) -> List[str]:
    """Read every document from files and directories of raw text.

    Formats (chosen by `fmt`, or per file when "auto"): plain text (".txt": documents separated by
    blank lines, lines inside a document joined with a space), JSONL (one {"text": ...} object per
    line), PubTator (title and abstract of each document joined; annotation lines ignored; detected
    from the first line, whatever the suffix) and spaCy DocBins (".spacy", `doc.text`). Directories
    are searched recursively for files with those suffixes.

    paths (Sequence[Union[str, Path]]): Files or directories.
    fmt (str): One of "auto", "text", "jsonl", "pubtator", "docbin".
    stats (Optional[TextStats]): Filled with counts of what was read and skipped.
    RETURNS (List[str]): The documents, in file order.
    """
    if fmt not in FORMATS:
        raise make_error("E505", setting="--format", value=fmt, expected=f"one of {', '.join(FORMATS)}")
    stats = stats if stats is not None else TextStats()
    docs: List[str] = []
    for file_path, file_fmt in _expand(paths, fmt, stats):
        n_before = len(docs)
        for text in _read_file(file_path, file_fmt, stats):
            text = text.strip()
            if text:
                docs.append(text)
                stats.n_chars += len(text)
        stats.files[str(file_path)] = len(docs) - n_before
        if len(docs) == n_before:
            stats.skipped.append((str(file_path), "no text"))
    stats.n_docs = len(docs)
    return docs


def _expand(paths: Sequence[Union[str, Path]], fmt: str, stats: TextStats) -> Iterator[Tuple[Path, str]]:
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise make_error("E502", path=path)
        if path.is_dir():
            for sub in sorted(p for p in path.rglob("*") if p.is_file()):
                sub_fmt = fmt if fmt != "auto" else _SUFFIX_FORMATS.get(sub.suffix.lower())
                if sub_fmt is None:
                    stats.skipped.append((str(sub), f"unknown suffix '{sub.suffix}'"))
                    continue
                yield sub, _sniff(sub, sub_fmt)
        else:
            # A file named explicitly is read even with an unknown suffix: as PubTator when it looks
            # like PubTator (BioRED's "Train.PubTator", NCBI's "..._corpus.txt"), else as plain text.
            file_fmt = fmt if fmt != "auto" else _SUFFIX_FORMATS.get(path.suffix.lower(), "text")
            yield path, _sniff(path, file_fmt)


def _sniff(path: Path, fmt: str) -> str:
    """Plain-text files that are really PubTator are read as PubTator in "auto" mode."""
    if fmt != "text":
        return fmt
    with path.open(encoding="utf8", errors="replace") as f:
        for line in f:
            if line.strip():
                return "pubtator" if _PUBTATOR_LINE.match(line.strip()) else "text"
    return "text"


def _read_file(path: Path, fmt: str, stats: TextStats) -> Iterable[str]:
    if fmt == "jsonl":
        return _read_jsonl(path, stats)
    if fmt == "pubtator":
        return _read_pubtator(path, stats)
    if fmt == "docbin":
        return _read_docbin(path)
    return _read_plain(path)


def _read_plain(path: Path) -> Iterator[str]:
    lines: List[str] = []
    with path.open(encoding="utf8", errors="replace") as f:
        for line in f:
            if line.strip():
                lines.append(line.strip())
            elif lines:
                yield " ".join(lines)
                lines = []
    if lines:
        yield " ".join(lines)


def _read_jsonl(path: Path, stats: TextStats) -> Iterator[str]:
    with path.open(encoding="utf8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise make_error("E503", path=path, line=i, problem=f"invalid JSON ({err.msg})") from err
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise make_error("E503", path=path, line=i, problem="no string field 'text'")
            yield record["text"]


def _read_pubtator(path: Path, stats: TextStats) -> Iterator[str]:
    """Title and abstract of each document, through the corpus package's PubTator parser.

    Only the text is used, so a document whose annotation lines are malformed still counts; one
    without text is skipped and reported.
    """
    from ..corpora.pubtator import parse_pubtator

    for rec in parse_pubtator(path):
        if rec.text.strip():
            yield rec.text
        else:
            why = str(rec.error).split("] ", 1)[-1] if rec.error is not None else "empty document"
            stats.skipped.append((rec.where or str(path), why[:200]))


def _read_docbin(path: Path) -> Iterator[str]:
    import spacy
    from spacy.tokens import DocBin

    try:
        doc_bin = DocBin().from_disk(path)
    except Exception as err:  # msgpack/zlib errors have no common base class
        raise make_error("E507", path=path, cause=" ".join(str(err).split())[:200]) from err
    for doc in doc_bin.get_docs(spacy.blank("xx").vocab):
        yield doc.text
