"""Stage 6, label: an LLM label (<= 8 words) and a one-sentence summary per topic, validated.

A rejected label is asked for again, the same prompt over the topic's MMR keywords, then over its c-TF-IDF
keywords. A reply that still fails validation is replaced by the keyword label (or a keyword summary), and the
replacement is recorded in the topic (`label_source`, `label_rejected`) so nobody mistakes it for the model's work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence
from pathlib import Path

import numpy as np

from topicchat.indexer.ann import sentences
from topicchat.indexer.facts import KnownWords, names, numbers
from topicchat.indexer.prompting import read_prompt, render_messages
from topicchat.indexer.topics import LabelSource, TopicRecord
from topicchat.models.base import Embedder, Generator, generate_many

MAX_LABEL_WORDS = 8
MAX_SUMMARY_WORDS = 45
_PREFIX = re.compile(r"^(topic\s*label|label|topic|title|answer|output)\s*[:\-]\s*", re.IGNORECASE)
_ECHO_WORDS = ("keyword", "example title", "documents:", "topic label", "reply with")


def example_reply(prompt_name: str, folder: Path | None) -> str:
    """The worked example's answer in a prompt file, to catch a model that only echoes it."""
    text = read_prompt(prompt_name, folder)
    parts = re.split(r"^### assistant\s*$", text, flags=re.MULTILINE)
    return parts[1].split("###")[0].strip().lower() if len(parts) > 1 else ""


def clean_label(raw: str) -> str:
    """First non-empty line, without prefixes, quotes, markdown or trailing punctuation."""
    line = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line.strip("*#-• \t"))
    line = line.strip().strip("\"'`*").strip()
    return re.sub(r"[.:;,!]+$", "", line).strip()


_CONNECTORS = {"and", "with", "for", "using", "in", "of", "on", "to", "the", "a", "an", "from", "via", "by"}


def trim_label(label: str, max_words: int = 6) -> str:
    """Shorten an over-long label to at most `max_words`; never end on a connecting word."""
    words = label.split()
    if len(words) > MAX_LABEL_WORDS:
        words = words[:max_words]
    while len(words) > 1 and words[-1].lower().strip(",;:-") in _CONNECTORS:
        words.pop()
    return " ".join(words).rstrip(",;:-")


def _copies(lowered: str, documents: Sequence[str]) -> bool:
    """True when the text is a whole title/sentence of a document, or the start of one.

    A good label can appear inside a title ("... for Hate Speech Detection"); a copied one starts
    where the title or sentence starts, because small models parrot their input from the top.
    """
    text = lowered.rstrip(".")
    for doc in documents:
        if doc.lower().strip().startswith(text):
            return True
        for piece in re.split(r"(?<=[.!?:])\s+|\n", doc.lower()):
            piece = piece.strip()
            if piece and (piece.rstrip(".") == text or piece.startswith(text)):
                return True
    return False


_SENTENCE = re.compile(
    r"^(the |this |my )?(topic|label|collection|documents?)\b.{0,20}\b(is|are|about|discuss\w*)\b", re.I
)


def _repeats(lowered: str) -> bool:
    """True when a two-word phrase occurs twice ("Draft Models and Draft Models") or a word follows itself
    ("Gender-Neutral, Gender-Neutral")."""
    words = re.findall(r"[\w\-]+", lowered)
    pairs = list(zip(words, words[1:], strict=False))
    return len(set(pairs)) < len(pairs) or any(a == b for a, b in pairs)


def validate_label(
    label: str, documents: Sequence[str], example: str = "", vocab: Container[str] | None = None
) -> str | None:
    """None when the label is usable, else the reason it is not (`vocab`: more words the label may use,
    those of all the topic's documents)."""
    words = label.split()
    if not words:
        return "empty"
    if len(words) > MAX_LABEL_WORDS or len(label) > 80:
        return "too long"
    if not re.search(r"[A-Za-z]", label):
        return "no letters"
    lowered = label.lower()
    if example and example in lowered:
        return "echoes the prompt's example"
    if any(w in lowered for w in _ECHO_WORDS):
        return "echoes the prompt"
    if label.count(",") >= 2:
        return "a keyword list, not a label"
    if _SENTENCE.match(label):
        return "a sentence, not a label"
    if label.count('"') % 2 or label.count("(") != label.count(")"):
        return "cut off"
    if _repeats(lowered):
        return "repeats itself"
    if len(words) >= 4 and _copies(lowered, documents):
        return "copies a document"
    missing = ungrounded(label, documents, vocab)
    if missing:
        return f"not in the topic's documents: {', '.join(missing)}"
    return None


_STOP_LABEL = frozenset("a an and the of for in on with to from by via vs versus or its their".split())
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9\-]*")


def _forms(word: str) -> set[str]:
    """A word and its singular forms (papers -> paper, studies -> study, classes -> class)."""
    forms = {word}
    if word.endswith("ies") and len(word) > 4:
        forms.add(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.add(word[:-2])
    if word.endswith("s") and len(word) > 2:
        forms.add(word[:-1])
    return forms


def vocabulary(documents: Sequence[str]) -> set[str]:
    """Every word of the documents with its singular forms (and the parts of hyphenated words)."""
    seen: set[str] = set()
    for token in set(_WORD_RE.findall(" ".join(documents).lower())):
        seen |= _forms(token)
        seen |= {f for part in token.split("-") if part for f in _forms(part)}
    return seen


class TopicWords:
    """The words of one topic's documents, as a view of one corpus-wide map word -> bit mask of the topics
    whose documents hold it: a label's words are checked against it. One map for the whole corpus costs a
    fraction of a set per topic (each parent's a union of its children's) on large corpora."""

    def __init__(self, masks: Mapping[str, int], mask: int) -> None:
        self.masks, self.mask = masks, mask

    def __contains__(self, word: object) -> bool:
        return bool(self.masks.get(word, 0) & self.mask) if isinstance(word, str) else False


def topic_vocabularies(
    texts: Sequence[str], labels: Sequence[int] | np.ndarray, topics: Sequence[TopicRecord]
) -> dict[int, TopicWords]:
    """The vocabulary of every node's documents (a leaf's members; a parent's, the union of its children's):
    what a label's words are checked against."""
    by_leaf: dict[int, list[str]] = {}
    for text, leaf in zip(texts, labels, strict=True):
        if leaf >= 0:
            by_leaf.setdefault(int(leaf), []).append(text)
    bits = {t.id: 1 << i for i, t in enumerate(t for t in topics if t.level == 0)}
    masks: dict[str, int] = {}
    for leaf, bit in bits.items():
        for word in vocabulary(by_leaf.pop(leaf, [])):
            masks[word] = masks.get(word, 0) | bit
    node_mask = dict(bits)
    for node in sorted((t for t in topics if t.level > 0), key=lambda t: t.level):
        node_mask[node.id] = 0
        for child in node.children:
            node_mask[node.id] |= node_mask.get(child, 0)
    return {node: TopicWords(masks, mask) for node, mask in node_mask.items()}


def ungrounded(label: str, documents: Sequence[str], vocab: Container[str] | None = None) -> list[str]:
    """The label's content words found in none of the documents (up to plural forms): an invented
    "Lemmatical" or "Re-Searches" is caught, "Researches" next to "research" is not. `vocab` (from
    `vocabulary` or `topic_vocabularies`) adds the words of documents not passed in full, e.g. every member
    of the topic."""
    in_docs = vocabulary(documents)

    def seen(word: str) -> bool:
        return any(f in in_docs or (vocab is not None and f in vocab) for f in _forms(word))

    missing = []
    for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]*", label):
        lowered = word.lower()
        if lowered in _STOP_LABEL or seen(lowered):
            continue
        parts = [x for x in lowered.split("-") if x]
        if len(parts) > 1 and all(seen(x) or x in _STOP_LABEL for x in parts):
            continue
        missing.append(word)
    return missing


def _labels_with_retry(
    generator: Generator,
    prompts: Sequence[list[dict[str, str]]],
    retry_prompts: Sequence[Callable[[int], list[dict[str, str]] | None]],
    docs: Sequence[Sequence[str]],
    example: str,
    vocabs: Sequence[Container[str] | None],
    misplaced: Callable[[list[tuple[int, str]]], dict[int, str]] | None = None,
) -> list[tuple[str, str | None]]:
    """(label, rejection reason) per topic. A rejected topic i is asked again with each of `retry_prompts(i)`
    in turn until a reply passes (the same prompt over another view of the topic: its MMR keywords, then
    its c-TF-IDF ones; a function returning None skips that retry). `misplaced` takes (topic index, label)
    pairs and returns why some labels sit closer to another topic."""

    def judge(pairs: list[tuple[int, str, str | None]]) -> list[tuple[str, str | None]]:
        fine = [(i, label) for i, label, reason in pairs if reason is None]
        far = misplaced(fine) if misplaced is not None and fine else {}
        return [(label, reason if reason is not None else far.get(i)) for i, label, reason in pairs]

    replies = generate_many(generator, prompts, max_tokens=16, stop=["\n"])
    results = judge([(i, *_checked(r, docs[i], example, vocabs[i])) for i, r in enumerate(replies)])
    for retry_prompt in retry_prompts:
        asks = [(i, retry_prompt(i)) for i, (_, reason) in enumerate(results) if reason is not None]
        retry = [(i, p) for i, p in asks if p is not None]
        if not retry:
            continue
        replies = generate_many(generator, [p for _, p in retry], max_tokens=16, stop=["\n"])
        again = judge(
            [(i, *_checked(r, docs[i], example, vocabs[i])) for (i, _), r in zip(retry, replies, strict=True)]
        )
        for (i, _), (label, reason) in zip(retry, again, strict=True):
            results[i] = (label, None) if reason is None else (results[i][0], f"{results[i][1]}; retry: {reason}")
    return results


def before_repeat(label: str) -> str:
    """A stuttering label cut where it starts to repeat itself: "Visual Tokens and Visual Tokens" ->
    "Visual Tokens", "Domain Adaptation and Object Detection and Object Detection" -> "Domain Adaptation and
    Object Detection" (the words the model wrote, up to its first repeated content word)."""
    words = label.split()
    seen: set[str] = set()
    for i, word in enumerate(words):
        key = word.lower().strip(",;:-")
        if key in _CONNECTORS or not key:
            continue
        if key in seen:
            return trim_label(" ".join(words[:i]).rstrip(",;:- "))
        seen.add(key)
    return label


_PART_SPLIT = re.compile(r"(\s+(?:and|&)\s+|\s*[,;:/]\s*)", re.IGNORECASE)


_PART_WORD_RE = re.compile(r"[a-z0-9][a-z0-9\-+#]*")  # "C++", "C#" are not "C"


def _content_forms(text: str) -> set[str]:
    """The content words of a label part, each as its singular forms (possessives and hyphen parts split)."""
    forms: set[str] = set()
    for token in _PART_WORD_RE.findall(text.lower().replace("'s", "").replace("\u2019s", "")):
        for part in token.split("-"):
            if part and part not in _STOP_LABEL:
                forms |= _forms(part)
    return forms


def without_repeated_parts(label: str) -> str:
    """A label without the parts that only repeat words it already has: "Mergers and Acquisitions and
    Mergers" -> "Mergers and Acquisitions", "Films and Cinema and Film-Cinema" -> "Films and Cinema",
    "Mike Leigh and Best Actor: Best" -> "Mike Leigh and Best Actor"; a hyphenated word of one word twice
    ("Dvd-DVDs") keeps its last spelling. Parts adding a word stay ("Labour Party and Labour Election")."""

    def one_word(match: re.Match[str]) -> str:
        a, b = match.group(1), match.group(2)  # two spellings of one word, not a reduplication ("Yo-yo")
        return b if a.lower() != b.lower() and _forms(a.lower()) & _forms(b.lower()) else match.group(0)

    original = label
    label = re.sub(r"\b([A-Za-z]+)-([A-Za-z]+)\b", one_word, label)
    pieces = _PART_SPLIT.split(label)
    parts, separators = pieces[0::2], pieces[1::2]
    seen: set[str] = set()
    kept: list[str] = []
    for i, part in enumerate(parts):
        forms = _content_forms(part)
        words = {w for w in forms if not any(w != v and v in _forms(w) for v in forms)}  # one form per word
        if kept and words and all(_forms(w) & seen for w in words):
            continue  # nothing new: drop it with the separator before it
        if kept:
            kept.append(separators[i - 1])
        kept.append(part)
        seen |= forms
    shorter = "".join(kept)
    if shorter == original:
        return original
    return shorter.strip(" ,;:/&") or original


def content_words(label: str) -> int:
    """How many different content words a label has (the parts of hyphenated words count: "Self-Attention" 2)."""
    forms = _content_forms(label)
    return len({min(_forms(w), key=len) for w in forms})


def _checked(
    reply: str, documents: Sequence[str], example: str, vocab: Container[str] | None
) -> tuple[str, str | None]:
    """A reply as a label and why it is refused (None: usable). A reply that lists phrases ("Mixture of
    Experts, MoE, Sparse Models") is read as its first phrase, and one that stutters ("Visual Tokens and
    Visual Tokens") as its words before the repetition, when that passes every check on its own (two words
    or more)."""
    label = trim_label(clean_label(reply))
    shorter = without_repeated_parts(label)
    if shorter != label and content_words(shorter) < 2:  # one word said twice ("Economy and Economy")
        return label, "repeats itself"
    label = shorter
    reason = validate_label(label, documents, example, vocab)
    salvaged = None
    if reason == "a keyword list, not a label":
        salvaged = trim_label(label.split(",")[0].strip())
    elif reason == "repeats itself":
        salvaged = before_repeat(label)
    if salvaged and len(salvaged.split()) >= 2 and re.search(r"[A-Za-z]{2,}", salvaged):
        if validate_label(salvaged, documents, example, vocab) is None:
            return salvaged, None
    return label, reason


def clean_summary(raw: str) -> str:
    """First paragraph, first sentence (small models ramble after it; "the U.S." ends no sentence)."""
    para = next((p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()), "")
    para = " ".join(_PREFIX.sub("", re.sub(r"^[-*•]+\s+", "", para)).split())  # "- Modify an Excel sheet": a list item
    return next(iter(sentences(para)), "").strip()


def validate_summary(summary: str, documents: Sequence[str], example: str = "") -> str | None:
    """None when the summary is usable, else the reason it is not: its form, or a fact the documents it
    summarises do not hold (a number, or a name: "the 2022 World Series" over news of 2004)."""
    words = summary.split()
    if len(words) < 5:
        return "too short"
    if len(words) > MAX_SUMMARY_WORDS:
        return "too long"
    lowered = summary.lower()
    if example and lowered.rstrip(".") == example.rstrip("."):
        return "echoes the prompt's example"
    if any(w in lowered for w in _ECHO_WORDS):
        return "echoes the prompt"
    if _copies(lowered, documents):
        return "copies a document"
    source = "\n".join(documents)
    stated = sorted(numbers(summary) - numbers(source))
    if stated:
        return f"states a number the documents lack ({', '.join(stated[:3])})"
    known = KnownWords(source)
    unknown = sorted(n for n in names(summary) if not known.knows(n))
    if unknown:
        return f"names what the documents do not ({', '.join(unknown[:3])})"
    return None


def _titles_block(titles: Sequence[str], limit: int = 4, words: int = 20) -> str:
    lines = []
    for t in titles[:limit]:
        parts = t.split()
        lines.append("- " + " ".join(parts[:words]) + (" ..." if len(parts) > words else ""))
    return "\n".join(lines)


def distinct_keywords(words: Sequence[str], limit: int = 8) -> list[str]:
    """Keywords minus those whose stems an earlier one already covers ("gender bias, biases, bias" ->
    "gender bias"): near-duplicates in the prompt make small models repeat themselves."""
    from topicchat.indexer.ann import tokenize

    kept: list[str] = []
    seen: set[str] = set()
    for word in words:
        stems = set(tokenize(word)) or {word.lower()}
        if stems <= seen:
            continue
        kept.append(word)
        seen |= stems
        if len(kept) == limit:
            break
    return kept


def make_distinct(topics: Sequence[TopicRecord]) -> None:
    """No two topics share a label (a parent and its child above all): the largest topic keeps a shared
    label, the others take their best key-phrase label not yet used, and record why."""
    used: dict[str, TopicRecord] = {}
    for topic in sorted(topics, key=lambda t: (-t.size, t.level, t.id)):
        key = topic.label.lower().strip()
        if key not in used:
            used[key] = topic
            continue
        owner = used[key]
        options = [o for o in topic.keyword_labels() if o.lower() not in used] or [f"{topic.label} ({topic.id})"]
        topic.label, topic.label_source = options[0], LabelSource.KEYWORDS
        topic.label_rejected = f"same label as topic {owner.id}"
        used[topic.label.lower()] = topic


def key_sentence(topic: TopicRecord, texts_by_id: Mapping[str, str], max_chars: int = 240) -> str | None:
    """The sentence of a topic's representative documents that holds most of its top keywords."""
    words = [w.lower() for w in topic.top_keywords(10, "ctfidf")]
    best, best_hits = None, 0
    for doc_id in topic.representative_doc_ids:
        for sentence in sentences(texts_by_id.get(doc_id, "")):
            lowered = sentence.lower()
            hits = sum(1 for w in words if w in lowered)
            if hits > best_hits and 40 <= len(sentence):
                best, best_hits = sentence, hits
    if best is None:
        return None
    if len(best) > max_chars:
        return best[: max_chars - 1].rstrip() + "…"
    return best if best.endswith((".", "!", "?")) else best + "…"  # a last sentence without its full stop


def closest_to_own(topics: Sequence[TopicRecord], embedder: Embedder, vectors: Mapping[int, np.ndarray]) -> None:
    """Every label must be closer (embedded) to its own topic than to any other topic of its level: a label
    that is not falls back to the first of the topic's key-phrase labels that is, and records why."""
    for level in sorted({t.level for t in topics}):
        nodes = [t for t in topics if t.level == level and t.id in vectors]
        if len(nodes) < 2:
            continue
        matrix = np.stack([vectors[t.id] for t in nodes]).astype(np.float32)
        sims = embedder.embed([t.label for t in nodes]) @ matrix.T
        for i, topic in enumerate(nodes):
            nearest = int(np.argmax(sims[i]))
            if nearest == i:
                continue
            options = topic.keyword_labels()
            fits = [
                o
                for o, row in zip(options, embedder.embed(options) @ matrix.T, strict=True)
                if int(np.argmax(row)) == i
            ]
            other = nodes[nearest]
            why = f"closer to topic {other.id} ({other.label}) than to its own"
            if topic.label_source is LabelSource.LLM:
                topic.label_rejected = f"LLM reply rejected: {why}"
            elif fits:
                topic.label_rejected = (
                    topic.label_rejected + "; " if topic.label_rejected else ""
                ) + f"'{topic.label}' {why}"
            if fits or topic.label_source is LabelSource.LLM:
                topic.label, topic.label_source = (fits or options or [topic.label])[0], LabelSource.KEYWORDS


def label_topics(
    topics: list[TopicRecord],
    generator: Generator | None,
    titles_by_id: Mapping[str, str],
    texts_by_id: Mapping[str, str],
    summaries: bool = True,
    prompts_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    vocabularies: Mapping[int, Container[str]] | None = None,
    embedder: Embedder | None = None,
    vectors: Mapping[int, np.ndarray] | None = None,
) -> dict[str, int]:
    """Fill label, label_source and summary of each topic; returns counts for the manifest.

    All labels are generated in one batched call, then all summaries (they see the labels), so
    backends that batch (transformers) keep the model busy instead of decoding one topic at a time.
    """
    label_example = example_reply("label", prompts_dir)
    summary_example = example_reply("summary", prompts_dir)
    keywords, blocks, docs = [], [], []
    for topic in topics:
        ranked = topic.top_keywords()
        keywords.append(", ".join(distinct_keywords(ranked)))
        titles = [titles_by_id.get(d, "") for d in topic.representative_doc_ids]
        blocks.append(_titles_block(titles))
        # What a label may draw its words from: the representative documents, their titles, the keywords.
        docs.append([texts_by_id.get(d, "") for d in topic.representative_doc_ids] + titles + [" ".join(ranked)])
        topic.label, topic.label_source, topic.label_rejected = topic.keyword_label(), LabelSource.KEYWORDS, None
        topic.summary = f"Documents about {keywords[-1] or topic.label}."

    if generator is not None and topics:
        prompts = [
            # Keywords only: a small model given titles tends to copy one of them as the label.
            render_messages("label", prompts_dir, keywords=kw or t.label)
            for t, kw in zip(topics, keywords, strict=True)
        ]

        asked = [{kw} for kw in keywords]  # a greedy model answers the same prompt the same way: ask it once

        def keywords_prompt(kind: str) -> Callable[[int], list[dict[str, str]] | None]:
            def prompt(i: int) -> list[dict[str, str]] | None:
                words = ", ".join(distinct_keywords([w for w, _ in topics[i].keywords.get(kind, [])]))
                if not words or words in asked[i]:
                    return None
                asked[i].add(words)
                return render_messages("label", prompts_dir, keywords=words)

            return prompt

        vocabs = [(vocabularies or {}).get(t.id) for t in topics]
        misplaced = None
        if embedder is not None and vectors is not None:
            by_level = {
                lv: [t for t in topics if t.level == lv and t.id in vectors] for lv in {t.level for t in topics}
            }
            matrices = {
                lv: np.stack([vectors[t.id] for t in ts]).astype(np.float32)
                for lv, ts in by_level.items()
                if len(ts) > 1
            }

            def misplaced(pairs: list[tuple[int, str]]) -> dict[int, str]:
                """Labels (by topic index) nearer another topic of their level than their own, and why."""
                out = {}
                sims = embedder.embed([label for _, label in pairs])
                for (i, _), vector in zip(pairs, sims, strict=True):
                    level = topics[i].level
                    if level not in matrices:
                        continue
                    peers = by_level[level]
                    nearest = peers[int(np.argmax(matrices[level] @ vector))]
                    if nearest.id != topics[i].id:
                        out[i] = f"closer to topic {nearest.id} ({nearest.label}) than to its own"
                return out

        labelled = _labels_with_retry(
            generator,
            prompts,
            [keywords_prompt("mmr"), keywords_prompt("ctfidf")],
            docs,
            label_example,
            vocabs,
            misplaced,
        )
        for topic, (label, reason) in zip(topics, labelled, strict=True):
            if reason is None:
                topic.label, topic.label_source = label, LabelSource.LLM
            else:
                topic.label_rejected = f"LLM reply rejected: {reason}"
        if progress:
            progress(len(topics) // 2)
        if summaries:
            # With a tree, the model summarises the areas; a leaf's summary is the sentence of its
            # representative documents that holds most of its keywords (quoted, so facts from the data, and
            # free: the leaves are most of the nodes and most of the label stage's time).
            tree = any(t.level > 0 for t in topics)
            written = [i for i, t in enumerate(topics) if not tree or t.level > 0]
            for topic in topics:
                if tree and topic.level == 0:
                    found = key_sentence(topic, texts_by_id)
                    if found:
                        topic.summary = f"“{found}”"
                        topic.quality["summary_extractive"] = 1.0
            prompts = [
                render_messages(
                    "summary",
                    prompts_dir,
                    label=topics[i].label,
                    keywords=keywords[i] or topics[i].label,
                    documents=blocks[i],
                )
                for i in written
            ]
            replies = generate_many(generator, prompts, max_tokens=48, stop=["\n"])  # not ". ": "the U.S. Senate"
            for topic, reply, topic_docs in zip(
                [topics[i] for i in written], replies, [docs[i] for i in written], strict=True
            ):
                summary = clean_summary(reply)
                summary = summary if summary.endswith((".", "!", "?")) else summary + "."
                if validate_summary(summary, topic_docs, summary_example) is None:
                    topic.summary = summary
                    topic.quality.pop("summary_rejected", None)
                else:  # the sentence of its documents that holds most of its keywords, quoted, as a leaf's
                    topic.quality["summary_rejected"] = 1.0
                    found = key_sentence(topic, texts_by_id)
                    if found:
                        topic.summary = f"“{found}”"
                        topic.quality["summary_extractive"] = 1.0
    if progress:
        progress(len(topics) - len(topics) // 2 if generator is not None else len(topics))
    if embedder is not None and vectors is not None:
        closest_to_own(topics, embedder, vectors)
    make_distinct(topics)
    llm_labels = sum(t.label_source is LabelSource.LLM for t in topics)
    extractive = sum(1 for t in topics if "summary_extractive" in t.quality)
    llm_summaries = sum(
        1
        for t in topics
        if generator is not None
        and summaries
        and "summary_rejected" not in t.quality
        and "summary_extractive" not in t.quality
    )
    return {
        "llm_labels": llm_labels,
        "fallback_labels": len(topics) - llm_labels,
        "llm_summaries": llm_summaries,
        "extractive_summaries": extractive,
        "fallback_summaries": len(topics) - llm_summaries - extractive if summaries else 0,
    }
