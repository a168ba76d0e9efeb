from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ._app import app


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.2f}"


@app.command("evaluate")
def evaluate_cli(
    model: str = typer.Argument(..., help="Pipeline name or path"),
    data_path: Path = typer.Argument(..., help="Gold data: a .spacy DocBin (e.g. from `convert`)", exists=True),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write all scores as JSON"),
    gold_entities: bool = typer.Option(
        False, "--gold-entities", help="Relation-only evaluation: gold mentions, entity recognizers off"
    ),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Batch size for nlp.pipe"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
) -> None:
    """Evaluate a pipeline and print entity *and* relation scores.

    `spacy evaluate` writes the relation metrics to its --output JSON but prints only spaCy's own
    metrics; this prints `rel_micro_*`, the mention- and concept-level figures and per-label scores.
    """
    import spacy
    import srsly
    from spacy.training import Corpus

    from ..relations.evaluate import evaluate_relations

    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    nlp = spacy.load(model)
    examples = list(Corpus(str(data_path))(nlp))
    scores: Dict[str, Any] = evaluate_relations(
        nlp, examples, gold_entities=gold_entities, batch_size=batch_size
    )
    setting = "gold entities" if gold_entities else "end to end"
    msg.divider(f"{model} on {data_path} ({len(examples)} docs, {setting})")
    rows = [
        (name, _fmt(scores.get(f"{prefix}_p")), _fmt(scores.get(f"{prefix}_r")), _fmt(scores.get(f"{prefix}_f")))
        for name, prefix in (
            ("entities", "ents"),
            ("relations (micro)", "rel_micro"),
            ("relations, mention level", "rel_mention_micro"),
            ("relations, concept level", "rel_concept_micro"),
        )
        if scores.get(f"{prefix}_f") is not None
    ]
    msg.table(rows, header=("", "P", "R", "F"), divider=True)
    for key in ("ents_per_type", "rel_f_per_type"):
        per_type = scores.get(key) or {}
        if per_type:
            msg.table(
                [(label, _fmt(s.get("p")), _fmt(s.get("r")), _fmt(s.get("f"))) for label, s in sorted(per_type.items())],
                header=(key, "P", "R", "F"), divider=True,
            )
    if output is not None:
        srsly.write_json(output, scores)
        msg.good(f"Saved scores to {output}")
