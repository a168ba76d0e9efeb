"""Memory of `spacy-biobert annotate` over a long input: does it stay flat on 100,000 documents?

    python benchmarks/annotate_memory.py                         # 100,000 docs, tiny pipeline, 1 process
    python benchmarks/annotate_memory.py --n-docs 20000 --n-process 2
    python benchmarks/annotate_memory.py --model training/demo/model-best --n-docs 2000

What it does:
1. Pipeline. With no --model, builds a small but complete one in --workdir: a tiny random BERT
   (`spacy_biobert.testing.make_tiny_bert`) behind `spacy-biobert.BioBertTransformer.v1`, spaCy's
   `ner` and `biobert_relation_extractor`, from `project/configs/demo.cfg`, trained for
   --train-steps steps on the project's invented sample corpus (`project/assets/demo`, converted
   with `spacy-biobert convert`). Its accuracy is beside the point; every component runs, as in a
   real pipeline, at a fraction of the cost of a real encoder.
2. Input. A JSONL file of --n-docs documents, each 1-2 sentences of the sample corpus with every
   number replaced by a fresh pseudo-random one (deterministic in --seed): no two documents are
   alike, and, as in real abstracts, new tokens keep appearing (spaCy's StringStore grows with new
   strings by design, so the input should exercise that).
3. Run. The real CLI, `spacy-biobert annotate MODEL input.jsonl output.jsonl`, as a subprocess
   (1 thread: OMP_NUM_THREADS=1). Every --interval seconds, the resident set size (VmRSS from
   /proc/<pid>/status) of the process and of all its descendants (the --n-process workers) is
   sampled, together with the number of documents done (read from the CLI's tqdm progress bar).
4. Check. The output must have one valid JSON line per document.

Results (one entry per run, keyed by --tag) are merged into benchmarks/results/annotate_memory.json
and written as annotate_memory.md (table) and annotate_memory.png (RSS against documents done and
against time). "Growth 10%->100%" is the flatness measure: RSS when the last document is done minus
RSS when 10% were done (model loading and warm-up are behind us by then).
"""
import argparse
import hashlib
import json
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DEMO = ROOT / "project" / "assets" / "demo"
DEMO_CFG = ROOT / "project" / "configs" / "demo.cfg"
BIN = Path(sys.executable).parent
FRACTIONS = (0.01, 0.10, 0.50, 1.00)
# tqdm's counter in the CLI's progress bar: "Annotating: 12345 docs [..]"
PROGRESS_RE = re.compile(r"Annotating:\s*([\d,]+) docs")
NUMBER_RE = re.compile(r"\d+")


# ---------------------------------------------------------------------------------------------------
# Pipeline and input
# ---------------------------------------------------------------------------------------------------


def build_tiny_pipeline(workdir: Path, *, steps: int) -> Tuple[Path, Dict]:
    """Train the tiny transformer + ner + relation pipeline on the sample corpus (once per workdir).

    workdir (Path): Where the tiny BERT, the converted corpus and the trained pipeline go.
    steps (int): Training steps.
    RETURNS (Tuple[Path, Dict]): The pipeline directory and what was done (for the results).
    """
    from spacy_biobert.testing import make_tiny_bert

    model = workdir / "train" / "model-last"
    info = {"kind": "tiny BERT (2 layers, hidden 32) + ner + biobert_relation_extractor",
            "config": str(DEMO_CFG.relative_to(ROOT)), "train_steps": steps,
            "trained_on": "project/assets/demo/train.pubtator.txt (invented sample corpus)"}
    if (model / "meta.json").exists():
        info["meta_performance"] = json.loads((model / "meta.json").read_text()).get("performance", {})
        return model, info
    workdir.mkdir(parents=True, exist_ok=True)
    bert = make_tiny_bert(workdir / "tiny_bert", cased=True)
    for split in ("train", "dev"):
        subprocess.run([str(BIN / "spacy-biobert"), "convert", str(DEMO / f"{split}.pubtator.txt"),
                        str(workdir / "corpus" / f"{split}.spacy"), "--format", "pubtator"], check=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "spacy", "train", str(DEMO_CFG), "--output", str(workdir / "train"),
                    "--paths.train", str(workdir / "corpus" / "train.spacy"),
                    "--paths.dev", str(workdir / "corpus" / "dev.spacy"),
                    "--paths.transformer", str(bert), "--training.max_steps", str(steps),
                    "--training.eval_frequency", str(steps),
                    "--training.optimizer.learn_rate.warmup_steps", str(max(1, steps // 10)),
                    "--training.optimizer.learn_rate.initial_rate", "0.001",
                    "--gpu-id", "-1"], check=True)
    info["train_seconds"] = round(time.perf_counter() - start, 1)
    info["meta_performance"] = json.loads((model / "meta.json").read_text()).get("performance", {})
    return model, info


def demo_sentences() -> List[str]:
    """Titles and abstract sentences of the invented sample corpus (train and dev), deduplicated."""
    sents: List[str] = []
    for name in ("train.pubtator.txt", "dev.pubtator.txt"):
        for line in (DEMO / name).read_text(encoding="utf8").splitlines():
            parts = line.split("|", 2)
            if len(parts) == 3 and parts[1] in ("t", "a"):
                sents.extend(s for s in re.split(r"(?<=\.)\s+", parts[2].strip()) if s)
    return list(dict.fromkeys(sents))


def write_input(path: Path, n_docs: int, *, seed: int = 0) -> Dict:
    """Write `n_docs` JSONL documents of 1-2 sample sentences with fresh numbers in each.

    path (Path): The JSONL file to write.
    n_docs (int): Number of documents.
    seed (int): Seed of the sentence choice and the numbers.
    RETURNS (Dict): Counts: documents, whitespace-separated words, characters, distinct words.
    """
    sents = demo_sentences()
    rng = random.Random(seed)
    n_words = n_chars = 0
    vocab = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf8") as f:
        for i in range(n_docs):
            picked = rng.sample(sents, rng.choice((1, 2)))
            # Numbers up to a million: most documents bring tokens never seen before, like real text.
            text = " ".join(NUMBER_RE.sub(lambda m: str(rng.randint(1, 1_000_000)), s) for s in picked)
            words = text.split()
            n_words += len(words)
            n_chars += len(text)
            vocab.update(words)
            f.write(json.dumps({"id": f"doc{i:06d}", "text": text}) + "\n")
    return {"docs": n_docs, "words": n_words, "chars": n_chars, "distinct_words": len(vocab),
            "sample_sentences": len(sents)}


# ---------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _descendants(pid: int) -> List[int]:
    """All live descendants of `pid`, from the parent IDs in /proc/*/stat."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # the command name (field 2) may hold spaces; the parent ID is 2 fields after its ")"
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def run_annotate(model: Path, inp: Path, out: Path, *, n_docs: int, n_process: int, batch_size: int,
                 interval: float, log: Path, memory_zone: Optional[int] = None) -> Dict:
    """Run the CLI on `inp`, sampling RSS and progress; RETURNS the samples and timings."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    cmd = [str(BIN / "spacy-biobert"), "annotate", str(model), str(inp), str(out),
           "--batch-size", str(batch_size), "--n-process", str(n_process)]
    if memory_zone is not None:
        cmd += ["--memory-zone", str(memory_zone)]
    progress = {"docs": 0}
    err_tail: List[str] = []

    def read_stderr(stream) -> None:
        buf = ""
        with log.open("w", encoding="utf8") as f:
            while True:
                # os.read returns what is there (a buffered read would wait for 4096 bytes)
                chunk = os.read(stream.fileno(), 4096).decode("utf8", errors="replace")
                if not chunk:
                    break
                f.write(chunk)
                buf += chunk
                *parts, buf = re.split(r"[\r\n]", buf)
                for part in parts:
                    m = PROGRESS_RE.search(part)
                    if m:
                        progress["docs"] = int(m.group(1).replace(",", ""))
                    elif part.strip():
                        err_tail.append(part)
                        del err_tail[:-20]

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    reader = threading.Thread(target=read_stderr, args=(proc.stderr,), daemon=True)
    reader.start()
    samples = []  # (seconds, docs done, RSS of the main process kB, RSS of main + workers kB, n workers)
    while proc.poll() is None:
        main = _rss_kb(proc.pid)
        kids = _descendants(proc.pid)
        total = main + sum(_rss_kb(k) for k in kids)
        if main:
            samples.append((round(time.perf_counter() - start, 2), progress["docs"], main, total, len(kids)))
        time.sleep(interval)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read().decode("utf8", errors="replace")
    reader.join(timeout=10)
    if proc.returncode != 0:
        raise RuntimeError(f"annotate failed (rc={proc.returncode}):\n{stdout}\n" + "\n".join(err_tail))
    return {"command": " ".join(cmd[1:]), "wall_seconds": round(wall, 1), "samples": samples,
            "final_docs_from_progress": progress["docs"], "stdout": re.sub(r"\x1b\[[0-9;]*m", "", stdout).strip().splitlines()[-4:]}


def string_store_probe(model: Path, inp: Path, n_docs: int, *, memory_zone: int, batch_size: int) -> List:
    """In-process, the same `annotate()` the CLI runs: StringStore size, lexemes and RSS as it goes.

    The CLI's subprocess cannot be asked for its StringStore; this reruns its loop (reader,
    `annotate`, one JSON line per doc, thrown away) in this process to see what grows.
    RETURNS (List): [docs done, strings, RSS MB] at every 10% of the documents.
    """
    import spacy

    from spacy_biobert.cli.annotate import (
        AnnotateStats,
        annotate,
        doc_to_json,
        read_records,
    )

    nlp = spacy.load(model)
    rows = [[0, len(nlp.vocab.strings), round(_rss_kb(os.getpid()) / 1024, 1)]]
    step = max(1, n_docs // 10)
    docs = annotate(nlp, read_records(inp), stats=AnnotateStats(), batch_size=batch_size, progress=False,
                    memory_zone=memory_zone)
    for i, doc in enumerate(docs, 1):
        json.dumps(doc_to_json(doc, str(i)))
        if i % step == 0:
            rows.append([i, len(nlp.vocab.strings), round(_rss_kb(os.getpid()) / 1024, 1)])
    return rows


def check_output(out: Path, n_docs: int) -> Dict:
    """One valid JSON record per document, in order: RETURNS counts (lines, entities, relations)."""
    n = ents = rels = 0
    digest = hashlib.sha256()
    with out.open(encoding="utf8") as f:
        for line in f:
            digest.update(line.encode("utf8"))
            rec = json.loads(line)
            if rec["id"] != f"doc{n:06d}":
                raise AssertionError(f"{out}:{n + 1}: id {rec['id']!r}, expected doc{n:06d}")
            n += 1
            ents += len(rec["entities"])
            rels += len(rec["relations"])
    if n != n_docs:
        raise AssertionError(f"{out}: {n} lines, expected {n_docs}")
    # the same input must give the same bytes with or without memory zones / worker processes
    return {"lines": n, "entities": ents, "relations": rels, "sha256": digest.hexdigest()}


def summarise(samples: List, n_docs: int) -> Dict:
    """RSS (MB, main + workers) when 1%, 10%, 50% and 100% of the documents were done; peak; growth."""
    mb = lambda kb: round(kb / 1024, 1)
    workers = max(s[4] for s in samples)
    # With workers, only samples while they all live count: they exit once the input is done,
    # and "100%" must not be the main process alone.
    live = [s for s in samples if s[4] == workers] if workers else samples
    at: Dict[str, Optional[float]] = {}
    at_docs: Dict[str, Optional[int]] = {}
    for frac in FRACTIONS:
        hit = next((s for s in live if s[1] >= frac * n_docs), None)
        if hit is None and frac == 1.0 and live:
            hit = live[-1]  # the bar's last update may land after the last sample
        at[f"{int(frac * 100)}%"] = mb(hit[3]) if hit else None
        at_docs[f"{int(frac * 100)}%"] = hit[1] if hit else None
    peak = max(s[3] for s in samples)
    g = at["100%"] - at["10%"] if at["100%"] is not None and at["10%"] is not None else None
    return {"rss_mb_at": at, "docs_done_at": at_docs, "peak_rss_mb": mb(peak),
            "peak_rss_main_mb": mb(max(s[2] for s in samples)),
            "growth_10_to_100_mb": round(g, 1) if g is not None else None,
            "growth_10_to_100_pct": round(100 * g / at["10%"], 1) if g is not None else None,
            "workers_seen": workers}


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def write_report(runs: Dict[str, Dict]) -> str:
    lines = [("| run | docs | words | n-process | memory zone | wall s | docs/s | RSS 1% MB | RSS 10% MB | "
              "RSS 50% MB | RSS 100% MB | peak RSS MB | growth 10%→100% | StringStore 10%→100% | output lines |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for tag, r in runs.items():
        r["summary"] = summarise(r["samples"], r["input"]["docs"])  # derived: recomputed from the samples
        s, a = r["summary"], r["summary"]["rss_mb_at"]
        lines.append(
            f"| {tag} | {r['input']['docs']:,} | {r['input']['words']:,} | {r['n_process']} | "
            f"{(r.get('memory_zone') or 'off') if r['n_process'] == 1 else 'n/a (workers)'} | {r['wall_seconds']:.0f} | {r['docs_per_s']:.1f} | {a['1%']} | "
            f"{a['10%']} | {a['50%']} | {a['100%']} | {s['peak_rss_mb']} | {s['growth_10_to_100_mb']:+.1f} MB "
            f"({s['growth_10_to_100_pct']:+.1f}%) | {_strings(r)} | {r['output']['lines']:,} |")
    md = "\n".join(lines)
    (RESULTS / "annotate_memory.md").write_text(md + "\n")
    _plot(runs)
    return md


def _strings(run: Dict) -> str:
    """StringStore size at 10% and 100% of the documents (in-process probe), or "–"."""
    rows = run.get("string_store", {}).get("rows", [])
    return f"{rows[1][1]:,} → {rows[-1][1]:,}" if len(rows) > 2 else "–"


def _plot(runs: Dict[str, Dict]) -> None:
    from _plotting import pyplot  # benchmarks/ is on sys.path when a benchmark runs

    plt = pyplot()
    if plt is None:
        return

    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(16, 4.5))
    for tag, r in runs.items():
        t = [s[0] for s in r["samples"]]
        d = [s[1] for s in r["samples"]]
        rss = [s[3] / 1024 for s in r["samples"]]
        ax1.plot(d, rss, label=tag)
        ax2.plot(t, rss, label=tag)
        if r["n_process"] == 1:
            # zoomed: past the first 1% (model loading), where growth would show
            start = next((i for i, x in enumerate(d) if x >= 0.01 * r["input"]["docs"]), 0)
            ax0.plot(d[start:], rss[start:], label=tag)
    ax0.set_title("one process, after the first 1% (zoomed)", fontsize=9)
    ax0.set_xlabel("documents done")
    ax0.set_ylabel("RSS, MB")
    ax0.legend(fontsize=7)
    ax1.set_xlabel("documents done")
    ax2.set_xlabel("seconds")
    for ax in (ax1, ax2):
        ax.set_ylabel("RSS, MB (main + workers)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    fig.suptitle("spacy-biobert annotate: resident memory over the run")
    fig.tight_layout()
    fig.savefig(RESULTS / "annotate_memory.png", dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-docs", type=int, default=100_000)
    ap.add_argument("--model", default="", help="pipeline to run (default: build the tiny one in --workdir)")
    ap.add_argument("--workdir", default="/tmp/spacy_biobert_annotate_memory",
                    help="tiny pipeline, input and output files (nothing here goes into the repo)")
    ap.add_argument("--train-steps", type=int, default=100, help="training steps of the tiny pipeline")
    ap.add_argument("--n-process", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32, help="the CLI's default")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples")
    ap.add_argument("--memory-zone", type=int, default=None,
                    help="passed to the CLI (documents per spaCy memory zone; 0: off); default: the CLI's")
    ap.add_argument("--strings", action="store_true",
                    help="also rerun the CLI's loop in this process to record the StringStore's size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="", help="name of this run in the results (default from the settings)")
    ap.add_argument("--report-only", action="store_true", help="rewrite .md/.png from the JSON")
    args = ap.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / "annotate_memory.json"
    runs: Dict[str, Dict] = json.loads(json_path.read_text()) if json_path.exists() else {}
    if args.report_only:
        md = write_report(runs)
        json_path.write_text(json.dumps(runs, indent=1))
        print(md)
        return
    workdir = Path(args.workdir)
    zone = args.memory_zone
    if zone is None:  # the CLI's default, read from its signature so the record cannot drift
        import inspect

        from spacy_biobert.cli.annotate import annotate_cli

        zone = inspect.signature(annotate_cli).parameters["memory_zone"].default.default
    if args.model:
        model, model_info = Path(args.model), {"kind": "given", "path": args.model}
    else:
        model, model_info = build_tiny_pipeline(workdir, steps=args.train_steps)
    inp = workdir / f"input_{args.n_docs}_s{args.seed}.jsonl"
    info = write_input(inp, args.n_docs, seed=args.seed)
    out = workdir / f"output_{args.n_docs}_n{args.n_process}.jsonl"
    tag = args.tag or (f"{'tiny' if not args.model else Path(args.model).name}, {args.n_docs:,} docs, "
                       f"n_process={args.n_process}, memory_zone={zone if args.n_process == 1 else 'n/a'}")
    print(f"{tag}: {info['docs']:,} docs, {info['words']:,} words, {info['distinct_words']:,} distinct", flush=True)
    res = run_annotate(model, inp, out, n_docs=args.n_docs, n_process=args.n_process, batch_size=args.batch_size,
                       interval=args.interval, log=workdir / f"stderr_{args.n_docs}_n{args.n_process}.log",
                       memory_zone=args.memory_zone)
    checked = check_output(out, args.n_docs)
    runs[tag] = {
        "model": model_info, "input": info, "n_process": args.n_process, "batch_size": args.batch_size,
        "memory_zone": zone,
        "threads": 1, "interval_s": args.interval, "wall_seconds": res["wall_seconds"],
        "docs_per_s": args.n_docs / res["wall_seconds"], "words_per_s": info["words"] / res["wall_seconds"],
        "summary": summarise(res["samples"], args.n_docs), "output": checked, "cli_stdout": res["stdout"],
        "command": res["command"].replace(str(workdir), "$WORKDIR"), "samples": res["samples"],
        "samples_columns": ["seconds", "docs_done", "rss_main_kb", "rss_total_kb", "n_workers"],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_at_end": os.getloadavg()},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.strings:
        runs[tag]["string_store"] = {
            "columns": ["docs_done", "strings", "rss_mb"], "memory_zone": zone,
            "rows": string_store_probe(model, inp, args.n_docs, memory_zone=zone if args.n_process == 1 else 0,
                                       batch_size=args.batch_size)}
    json_path.write_text(json.dumps(runs, indent=1))
    print(write_report(runs))
    inp.unlink()  # 100,000 documents are ~10 MB; the output stays in --workdir for inspection


if __name__ == "__main__":
    main()
