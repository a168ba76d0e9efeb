"""Render entities and relations as displaCy HTML.

displaCy has no relation view, so a doc is drawn twice: the entity highlights (displaCy "ent") over
the running text, and underneath a displaCy "dep" diagram in manual mode whose "words" are the entity
mentions in document order and whose arcs are the relations, labelled with their type and score. Only
the mentions are words, so an abstract's arcs fit on one screen instead of spanning 300 tokens.
"""
import html
from typing import Dict, Iterable, List, Optional, Tuple

from spacy import displacy
from spacy.tokens import Doc

from .relations.annotations import Mention, Relation, get_relations

# One colour per label family seen in the corpora this package reads; displaCy's default grey
# for anything else.
COLORS: Dict[str, str] = {
    "Chemical": "#7aecec", "CHEMICAL": "#7aecec", "DRUG": "#7aecec", "drug": "#7aecec",
    "Disease": "#f0a3a3", "DISEASE": "#f0a3a3", "Disease_Class": "#f0a3a3",
    "Gene": "#bfeeb7", "GENE": "#bfeeb7", "GeneOrGeneProduct": "#bfeeb7", "protein": "#bfeeb7",
    "DNA": "#c7e0f4", "RNA": "#e4c6f2", "cell_type": "#ffe6a1", "cell_line": "#ffd09c",
    "Species": "#d9e3a1", "OrganismTaxon": "#d9e3a1",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em; }}
section.doc {{ border-bottom: 1px solid #ddd; padding-bottom: 1.5em; margin-bottom: 1.5em; }}
h2 {{ font-size: 1.1em; }}
.rel-empty {{ color: #888; font-style: italic; }}
table.rels {{ border-collapse: collapse; margin-top: 0.5em; font-size: 0.9em; }}
table.rels td, table.rels th {{ border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def _mention_key(m: Mention) -> Tuple[int, int]:
    return (m.start, m.end)


def _arc_mentions(rel: Relation) -> Optional[Tuple[Mention, Mention]]:
    """The mention pair to draw a relation between: its own mentions at mention level; at concept
    level the closest head/tail mention pair, so one arc stands for the concept pair."""
    if rel.level == "mention":
        return rel.head, rel.tail
    if not rel.head_mentions or not rel.tail_mentions:
        return None
    return min(
        ((h, t) for h in rel.head_mentions for t in rel.tail_mentions),
        key=lambda pair: abs(pair[0].start - pair[1].start),
    )


def relation_arcs(doc: Doc, relations: Optional[Iterable[Relation]] = None,
                  min_score: float = 0.0) -> Dict:
    """displaCy's manual "dep" data for the relations of `doc`: one word per entity mention, one
    arc per relation (head -> tail, labelled "TYPE score").

    doc (Doc): The doc.
    relations (Optional[Iterable[Relation]]): Relations to draw; defaults to `doc._.relations`.
    min_score (float): Leave out relations scored below this.
    RETURNS (Dict): {"words": [...], "arcs": [...]} for `displacy.render(..., manual=True)`.
    """
    rels = [r for r in (get_relations(doc) if relations is None else relations) if r.score >= min_score]
    mentions: Dict[Tuple[int, int], Mention] = {
        (e.start, e.end): Mention.from_span(e) for e in doc.ents
    }
    pairs = []
    for rel in rels:
        pair = _arc_mentions(rel)
        if pair is None:
            continue
        for m in pair:
            mentions.setdefault(_mention_key(m), m)
        pairs.append((rel, pair))
    order = sorted(mentions)
    index = {key: i for i, key in enumerate(order)}
    words = []
    for key in order:
        m = mentions[key]
        tag = f"{m.label} {m.kb_id}".strip() if m.kb_id and m.kb_id != "-1" else m.label
        words.append({"text": doc[m.start:m.end].text, "tag": tag})
    arcs = []
    for rel, (head, tail) in pairs:
        h, t = index[_mention_key(head)], index[_mention_key(tail)]
        if h == t:
            continue
        label = rel.label if rel.score >= 1.0 else f"{rel.label} {rel.score:.2f}"
        # displaCy draws the arrowhead at `end` for "right" and at `start` for "left": point it at
        # the tail.
        arcs.append({"start": min(h, t), "end": max(h, t), "label": label,
                     "dir": "right" if h < t else "left"})
    return {"words": words, "arcs": arcs}


def _relation_table(doc: Doc, rels: List[Relation]) -> str:
    rows = []
    for rel in rels:
        if rel.level == "mention":
            head = doc[rel.head.start:rel.head.end].text
            tail = doc[rel.tail.start:rel.tail.end].text
        else:
            head = doc[rel.head_mentions[0].start:rel.head_mentions[0].end].text if rel.head_mentions else ""
            tail = doc[rel.tail_mentions[0].start:rel.tail_mentions[0].end].text if rel.tail_mentions else ""
            head = f"{head} ({rel.head_id})" if rel.head_id else head
            tail = f"{tail} ({rel.tail_id})" if rel.tail_id else tail
        rows.append(
            f"<tr><td>{html.escape(rel.label)}</td><td>{html.escape(head)}</td>"
            f"<td>{html.escape(tail)}</td><td>{rel.score:.3f}</td></tr>"
        )
    return ("<table class=\"rels\"><tr><th>relation</th><th>head</th><th>tail</th><th>score</th></tr>"
            + "".join(rows) + "</table>")


def render_relations(doc: Doc, *, min_score: float = 0.0, title: Optional[str] = None,
                     page: bool = False) -> str:
    """Render a doc's entities (highlighted) and relations (arcs between the mentions) as HTML.

    doc (Doc): A doc with `doc.ents` and `doc._.relations`.
    min_score (float): Leave out relations scored below this.
    title (Optional[str]): A heading for the doc (e.g. its ID).
    page (bool): Return a full HTML page instead of a fragment.
    RETURNS (str): The HTML.
    """
    rels = [r for r in get_relations(doc) if r.score >= min_score]
    ents_html = displacy.render(doc, style="ent", page=False, jupyter=False,
                                options={"colors": COLORS})
    parts = ["<section class=\"doc\">"]
    if title:
        parts.append(f"<h2>{html.escape(title)}</h2>")
    parts.append(ents_html)
    data = relation_arcs(doc, rels)
    if data["arcs"]:
        parts.append(displacy.render(
            data, style="dep", manual=True, page=False, jupyter=False,
            options={"compact": True, "distance": 140, "offset_x": 60, "word_spacing": 30,
                     "arrow_spacing": 14},
        ))
        parts.append(_relation_table(doc, rels))
    else:
        parts.append("<p class=\"rel-empty\">No relations.</p>")
    parts.append("</section>")
    fragment = "\n".join(parts)
    if page:
        return _PAGE.format(title=html.escape(title or "spacy-biobert"), body=fragment)
    return fragment


def render_docs(docs: Iterable[Doc], *, min_score: float = 0.0,
                title: str = "spacy-biobert: entities and relations") -> str:
    """Render several docs on one HTML page, each headed by its `doc.user_data["id"]` if set.

    docs (Iterable[Doc]): The docs.
    min_score (float): Leave out relations scored below this.
    title (str): The page title.
    RETURNS (str): A full HTML page.
    """
    sections = []
    for i, doc in enumerate(docs):
        doc_id = doc.user_data.get("id") if isinstance(doc.user_data, dict) else None
        sections.append(render_relations(doc, min_score=min_score, title=str(doc_id or f"doc {i + 1}")))
    return _PAGE.format(title=html.escape(title), body="\n".join(sections))
