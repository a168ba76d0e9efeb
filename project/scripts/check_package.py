"""Check an installed pipeline package the way a user meets it: `spacy.load` by name, in a process that
never imports spacy_biobert itself (its components must come in through the package's entry points),
then annotate a text and require entities and relations.

    python project/scripts/check_package.py PACKAGE TEXT_FILE REPORT_JSON [EXPECT]

EXPECT is what must come out: "entities+relations" (default), "entities" (an NER-only pipeline) or
"loads" (only loading and the report: smoke tests with an untrained encoder). Exits non-zero, with
the reason, when anything is missing. Imports only spaCy and the standard library
on purpose: this script runs in the fresh virtual environment the wheel was installed into.
"""
import json
import sys
from pathlib import Path

EXPECT = ("entities+relations", "entities", "loads")


def main(package: str, text_file: str, report: str, expect: str = "entities+relations") -> int:
    if expect not in EXPECT:
        print(f"FAIL: EXPECT must be one of {', '.join(EXPECT)}, not {expect!r}")
        return 2
    imported_before = sorted(m for m in sys.modules if m.split(".")[0] == "spacy_biobert")
    if imported_before:
        print(f"FAIL: spacy_biobert was imported before spacy.load: {imported_before}")
        return 1
    import spacy

    nlp = spacy.load(package)
    text = Path(text_file).read_text(encoding="utf8").strip()
    doc = nlp(text)
    ents = [{"text": e.text, "label": e.label_, "start": e.start_char, "end": e.end_char}
            for e in doc.ents]
    rels = []
    if doc.has_extension("relations"):
        for rel in doc._.relations:
            if rel.level == "mention":
                head, tail = doc[rel.head.start:rel.head.end].text, doc[rel.tail.start:rel.tail.end].text
            else:
                head = doc[rel.head_mentions[0].start:rel.head_mentions[0].end].text if rel.head_mentions else rel.head_id
                tail = doc[rel.tail_mentions[0].start:rel.tail_mentions[0].end].text if rel.tail_mentions else rel.tail_id
            rels.append({"label": rel.label, "head": head, "tail": tail, "score": rel.score})
    result = {
        "package": package,
        "version": nlp.meta.get("version"),
        "pipeline": nlp.pipe_names,
        "python": sys.executable,
        "license": nlp.meta.get("license"),
        "performance": nlp.meta.get("performance", {}),
        "requirements": nlp.meta.get("requirements", []),
        # Loaded by spaCy through entry points, not by this script:
        "modules_loaded_by_entry_points": sorted(
            {m.split(".")[0] + "." + m.split(".")[1] for m in sys.modules
             if m.startswith("spacy_biobert.")}
        ),
        "entities": ents,
        "relations": rels,
    }
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    Path(report).write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"Loaded {package} {result['version']} ({', '.join(nlp.pipe_names)}) from {sys.executable}")
    for e in ents[:12]:
        print(f"  entity   {e['label']:<10} {e['text']}")
    for r in rels[:12]:
        print(f"  relation {r['label']:<10} {r['head']} -> {r['tail']} ({r['score']:.2f})")
    problems = []
    if not ents:
        problems.append("no entities predicted")
    if expect == "entities+relations" and not rels:
        problems.append("no relations predicted")
    if problems and expect == "loads":
        print(f"OK (loads only): {'; '.join(problems)}")
        return 0
    if problems:
        print(f"FAIL: {'; '.join(problems)} for the text in {text_file}")
        return 1
    print(f"OK: {len(ents)} entities, {len(rels)} relations; report in {report}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
