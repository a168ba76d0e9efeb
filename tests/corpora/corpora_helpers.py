"""Shared helpers for the corpora tests."""
import json

from spacy_biobert.corpora import MENTION_INFO_KEY, META_KEY


def signature(doc):
    """Everything a round trip must keep (not the source file name). JSON-normalised, as
    DocBin's msgpack gives tuples for lists."""
    meta = {k: v for k, v in doc.user_data.get(META_KEY, {}).items() if k != "source"}
    return json.loads(json.dumps((
        doc.text,
        [t.text for t in doc],
        [t.is_sent_start for t in doc],
        {key: [(s.start, s.end, s.label_, s.kb_id_, s.id_) for s in group] for key, group in doc.spans.items()},
        [(e.start, e.end, e.label_, e.kb_id_) for e in doc.ents],
        [r.to_dict() for r in doc._.relations],
        meta,
        doc.user_data.get(MENTION_INFO_KEY, {}),
    )))


def annotations(doc):
    """Mentions and relations by character offsets (format-independent)."""
    return (
        doc.text,
        [(s.start_char, s.end_char, s.label_, s.kb_id_) for s in doc.spans["sc"]],
        sorted((r.label, r.head_id, r.tail_id, tuple(sorted(r.properties.items())),
                tuple(m.start for m in r.head_mentions), tuple(m.start for m in r.tail_mentions))
               for r in doc._.relations),
    )
