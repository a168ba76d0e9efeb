"""`spacy-biobert convert`: corpus files -> spaCy DocBin (or PubTator / BioC), with a summary."""
import json
import sys
from pathlib import Path
from typing import Iterable, Iterator, Optional

import typer
from wasabi import msg

from ._app import app

# Progress bars only where they help: inputs of at least this many bytes.
_PROGRESS_MIN_BYTES = 1_000_000
OUTPUT_FORMATS = ("spacy", "pubtator", "bioc")


def _input_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _progress(docs: Iterable, enabled: bool) -> Iterator:
    from tqdm import tqdm

    yield from tqdm(docs, unit="doc", desc="Converting", disable=not enabled, file=sys.stderr)


def convert(
    input_path: Path,
    output_path: Path,
    format: str,
    *,
    output_format: str = "spacy",
    summary_path: Optional[Path] = None,
    skip_invalid: bool = False,
    lang: str = "en",
    progress: Optional[bool] = None,
):
    """Convert a corpus and write it; the function behind the CLI.

    input_path (Path): Input file or folder (DDI, ChemProt). output_path (Path): Output file.
    format (str): Input format, one of `spacy_biobert.corpora.FORMATS`.
    output_format (str): "spacy" (DocBin with user data), "pubtator" or "bioc".
    summary_path (Optional[Path]): Also write the summary JSON here.
    skip_invalid (bool): Skip invalid records (counted) instead of failing.
    lang (str): Language of the blank pipeline whose tokenizer builds the docs.
    progress (Optional[bool]): Show a progress bar; None: only for inputs of 1 MB or more.
    RETURNS (ConversionStats): What was converted and skipped.
    RAISES (BioBertError): A coded error on invalid input; no output file is left behind.
    """
    import spacy
    from spacy.tokens import DocBin

    from ..corpora import (
        FORMATS,
        ConversionStats,
        CorpusError,
        read_corpus,
        write_bioc,
        write_pubtator,
    )
    from ..corpora.docbuilder import atomic_output

    if format not in FORMATS:
        raise CorpusError("E107", "unknown_format", format=format, formats=", ".join(FORMATS))
    if output_format not in OUTPUT_FORMATS:
        raise CorpusError("E107", "unknown_format", format=output_format,
                          formats=", ".join(OUTPUT_FORMATS))
    nlp = spacy.blank(lang)
    stats = ConversionStats()
    if progress is None:
        progress = _input_size(input_path) >= _PROGRESS_MIN_BYTES
    docs = _progress(read_corpus(format, input_path, nlp, skip_invalid=skip_invalid, stats=stats),
                     progress)
    if output_format == "spacy":
        # Everything is read before the output is opened, so invalid input leaves no file.
        doc_bin = DocBin(store_user_data=True, docs=docs)
        with atomic_output(output_path, "wb") as fh:
            fh.write(doc_bin.to_bytes())
    elif output_format == "pubtator":
        write_pubtator(docs, output_path)
    else:
        write_bioc(docs, output_path)
    if summary_path is not None:
        with atomic_output(summary_path) as fh:
            fh.write(json.dumps(stats.to_dict(), indent=2) + "\n")
    return stats


@app.command("convert")
def convert_cli(
    input_path: Path = typer.Argument(..., help="Input file, or folder for DDI / ChemProt"),
    output_path: Path = typer.Argument(..., help="Output file (.spacy DocBin by default)"),
    format: str = typer.Option(
        ..., "--format", "-f", help="Input format: pubtator, ncbi, bioc, iob, chemprot, ddi"
    ),
    output_format: str = typer.Option(
        "spacy", "--output-format", "-t", help="Output format: spacy, pubtator, bioc"
    ),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Write the summary JSON here"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Skip invalid records (counted under 'skipped')"
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the tokenizer"),
) -> None:
    """Convert a biomedical corpus (PubTator, NCBI-disease, BioC XML, IOB/CoNLL, ChemProt TSV,
    DDI XML) into a spaCy DocBin: every mention in doc.spans["sc"] (non-overlapping ones in
    doc.ents), sentences, relations in doc._.relations. Prints a summary table (docs, mentions per
    label, relations per label, skipped per reason); --summary writes it as JSON. On invalid input
    it exits with a coded error and writes nothing, unless --skip-invalid."""
    from ..errors import BioBertError

    try:
        stats = convert(input_path, output_path, format, output_format=output_format,
                        summary_path=summary, skip_invalid=skip_invalid, lang=lang)
    except BioBertError as err:
        msg.fail(str(err))
        raise typer.Exit(1) from err
    stats.print_table(title=f"{input_path} ({format})")
    msg.good(f"Wrote {stats.docs} docs to {output_path}")
    if summary is not None:
        msg.good(f"Wrote the summary to {summary}")
