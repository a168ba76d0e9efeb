"""`spacy-biobert visualize INPUT OUTPUT`: an HTML page with entity highlights and relation arcs."""
from itertools import islice
from pathlib import Path
from typing import Iterator, Optional

import typer
from wasabi import msg

from ..errors import BioBertError, make_error
from ._app import app


def read_annotated(path: Path, nlp=None) -> Iterator:
    """Stream annotated docs from a JSONL file written by `annotate`, a spaCy DocBin, or a
    PubTator / BioC XML file (gold or predicted annotations, through the corpus readers).

    path (Path): The file.
    nlp (Optional[Language]): Tokenizer and vocab to rebuild docs with; a blank English one if None.
    YIELDS (Doc): Docs with entities, `doc._.relations` and `doc.user_data["id"]`.
    """
    import json

    import spacy
    from spacy.tokens import DocBin

    from .annotate import DOC_ID_KEY, detect_input_format, json_to_doc

    nlp = nlp or spacy.blank("en")
    if not path.exists():
        raise make_error("E305", path=path, problem="it does not exist")
    name = path.name.lower()
    if name.endswith(".spacy"):
        for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
            yield doc
        return
    if name.endswith(".xml"):
        from ..corpora import read_bioc

        yield from _with_ids(read_bioc(path, nlp))
        return
    fmt = detect_input_format(path)
    if fmt == "pubtator":
        from ..corpora import read_pubtator

        yield from _with_ids(read_pubtator(path, nlp))
        return
    with path.open(encoding="utf8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                doc = json_to_doc(nlp, data)
            except (ValueError, KeyError, TypeError) as err:
                raise make_error("E305", path=f"{path}:{i}", problem=f"{type(err).__name__}: {err}")
            doc.user_data[DOC_ID_KEY] = str(data.get("id", i))
            yield doc


def _with_ids(docs) -> Iterator:
    from ..corpora.docbuilder import doc_id

    for doc in docs:
        doc.user_data.setdefault("id", doc_id(doc))
        yield doc


@app.command("visualize")
def visualize_cli(
    input_path: Path = typer.Argument(..., help="Annotated file: JSONL from `annotate`, .spacy, PubTator or BioC XML; raw text with --model"),
    output_path: Path = typer.Argument(..., help="HTML file to write"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Annotate INPUT with this pipeline first (INPUT is then raw text, JSONL or PubTator)"),
    limit: int = typer.Option(50, "--limit", "-l", help="Render at most this many documents (0: all)"),
    min_score: float = typer.Option(0.0, "--min-score", help="Leave out relations scored below this"),
) -> None:
    """Render documents as displaCy HTML: entities highlighted, relations as labelled arcs."""
    from ..visualize import render_docs

    if model is not None:
        import spacy

        import spacy_biobert  # noqa: F401

        from .annotate import InputRecord, read_records

        nlp = spacy.load(model)
        records = (r for r in read_records(input_path) if isinstance(r, InputRecord))
        records = islice(records, limit) if limit else records

        def docs_from_model() -> Iterator:
            for doc, rec in nlp.pipe(((r.text, r) for r in records), as_tuples=True):
                doc.user_data["id"] = rec.id
                yield doc

        docs = docs_from_model()
    else:
        docs = read_annotated(input_path)
        docs = islice(docs, limit) if limit else docs
    try:
        docs = list(docs)
    except BioBertError as err:
        msg.fail(str(err), exits=1)
    html = render_docs(docs, min_score=min_score, title=f"spacy-biobert: {input_path.name}")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(html, encoding="utf8")
    n_rels = sum(len(d._.relations) for d in docs)
    n_ents = sum(len(d.ents) for d in docs)
    msg.good(f"Rendered {len(docs)} documents ({n_ents} entities, {n_rels} relations) -> {output_path}")
