"""The chat app (Gradio 6): a Chat tab, a Topics browser and a Map tab over one `Assistant`.

Security: the Chatbot and Markdown components render HTML (DOMPurify-sanitised). Every piece of
document text, title, topic label and model output goes through `md_safe`/`html_safe` (html.escape)
before it is put in a message, so a document can never inject markup or scripts.

The "map" intent ("show the map") switches the app to the Map tab after the chat answer; the map
there always highlights the documents cited in the last answer that had citations.
"""

from __future__ import annotations

import html
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from topicchat.app.answer import (
    Answer,
    Assistant,
    Citation,
    Conversation,
    Coverage,
    DoneEvent,
    RoutingEvent,
    TokenEvent,
)
from topicchat.app.intent import IntentKind, parse_intent
from topicchat.app.plots import document_map, topic_heatmap, trend_figure
from topicchat.app.route import RoutedTopic, Routing
from topicchat.app.settings import ServeSettings
from topicchat.indexer.store import index_folder

log = logging.getLogger(__name__)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
KEYWORD_KINDS = (("ctfidf", "c-TF-IDF"), ("keybert", "KeyBERTInspired"), ("mmr", "MMR"))
CSS = (
    "#chatbot details summary { cursor: pointer; font-weight: 600; } #topic-detail details { margin-bottom: .5em; } "
    "#topic-tree details { margin-left: 1.1em; } #topic-tree summary { cursor: pointer; } "
    "#topic-tree .tc-leaf { margin-left: 1.1em; } #topic-tree .tc-kw { color: #666; font-size: .9em; margin-left: 1.1em; }"
)
HELP = (
    "Ask about the documents. Try **list topics**, **what topics cover …?**, **tell me about topic 3**, "
    "**compare topic 1 and topic 2**, **use topic 4** (then follow up: *and which of those …?*), "
    "**use all topics**, **what are the main themes?**, **what are the open problems?**, "
    "**how has research on … changed?**, **which topics grew in the last three months?**, or **show the map**."
)


def html_safe(text: Any) -> str:
    """Escape untrusted text for an HTML context (no markdown is parsed there)."""
    return html.escape(" ".join(str(text).split()))


_LINKY = re.compile(r"(?i)\b(https?|ftp|mailto|javascript|data|file|www)([:.])")
_CITATION = re.compile(r"\\\[(\d{1,3})\\\](?![(:\[])")  # an escaped [n] that cannot start a link: shown as is


def md_safe(text: Any) -> str:
    """Escape untrusted text for a markdown context: no HTML, no markdown link or image syntax (every bracket
    but a citation's [n] is escaped), and no bare URL or e-mail address the renderer would turn into a
    link (a backslash before the ':' of 'https:', the '.' of 'www.' or an '@' breaks the pattern while
    the text still reads the same)."""
    escaped = html.escape(str(text)).replace("[", "\\[").replace("]", "\\]")
    escaped = _CITATION.sub(r"[\1]", escaped)
    escaped = _LINKY.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped)
    return escaped.replace("@", "\\@")


def _routing_md(
    topics: Sequence[RoutedTopic], routing: Routing | None, intent: str, coverage: Coverage | None, conv: Conversation
) -> str:
    """The body of the collapsible Routing block (the only place the UI shows an answer's coverage)."""
    lines: list[str] = []
    if topics:
        lines.append("Chosen topics:")
        lines += [f"- **Topic {t.id}**: {md_safe(t.label)} (score {t.score:.2f}, {t.size} documents)" for t in topics]
    elif routing is not None and not routing.matched:
        lines.append(f"No topic fits: the closest document has similarity {routing.best_similarity:.2f}.")
    elif routing is not None:
        lines.append("No single topic fits; all documents were searched.")
    else:
        lines.append(f"No topic routing was needed (intent: {md_safe(intent)}).")
    if routing is not None and routing.restricted_to:
        why = "the topic focus" if conv.focus else "a follow-up to the previous answer"
        ids = ", ".join(str(i) for i in routing.restricted_to)
        lines.append(f"Restricted to topic(s) {ids} ({why}).")
    if coverage is not None:
        lines.append(md_safe(coverage.render()))
    return "\n".join(lines)


def _sources_md(citations: Sequence[Citation]) -> str:
    """The body of the collapsible Sources block: title, topic, id, snippet and the full abstract."""
    parts = []
    for c in citations:
        parts.append(
            f"**[{c.n}]** {md_safe(c.title)}  \n"
            f"topic {c.topic}: {md_safe(c.topic_label)} · id: {md_safe(c.doc_id)} · score {c.score:.2f}"
            + (f" · dated {md_safe(c.date)}" if c.date else "")
            + "  \n"
            + (f"Key finding: <mark>{md_safe(c.evidence)}</mark>  \n" if c.evidence else "")
            + f"{md_safe(c.snippet)}\n\n"
            f"<details><summary>Full abstract [{c.n}]</summary>{html_safe(c.text)}</details>"
        )
    return "\n\n".join(parts)


class TopicChatUI:
    """The app's event handlers; plain Python, so tests drive them without a browser."""

    def __init__(
        self, assistant: Assistant, reopen: Callable[[], Assistant] | None = None, root: Path | None = None
    ) -> None:
        self.assistant = assistant
        self.index = assistant.index
        self.topics = self.index.nodes
        self.reopen = reopen  # opens the index at `root` again: the server follows rebuilds
        self.root = root
        self._lock = threading.Lock()

    def live(self) -> Assistant:
        """The assistant of the index's live generation. When a build has swapped in a new generation, it is
        opened (once, under a lock) and new questions are answered from it; answers already streaming
        finish on the generation they started on. A generation that cannot be opened is logged and the
        current one kept."""
        if self.reopen is None or self.root is None:
            return self.assistant
        if index_folder(self.root).resolve() == self.assistant.index.path.resolve():
            return self.assistant
        with self._lock:
            if index_folder(self.root).resolve() != self.assistant.index.path.resolve():
                try:
                    fresh = self.reopen()
                except Exception:
                    log.exception(
                        "the rebuilt index at %s could not be opened; still answering from the old one", self.root
                    )
                    return self.assistant
                log.info("answering from the new index generation %s", fresh.index.path)
                self.assistant, self.index, self.topics = fresh, fresh.index, fresh.index.nodes
        return self.assistant

    # -- chat ----------------------------------------------------------------------------------
    def respond(self, message: str, history: list | None, state: Conversation | None) -> Iterator[list]:
        """Stream one answer: yields the full history (user turn, Routing block, answer, Sources block)."""
        assistant = self.live()  # chosen once: the whole answer comes from one index generation
        conv = state if state is not None else Conversation()
        history = list(history or []) + [gr.ChatMessage(role="user", content=md_safe(message))]
        yield list(history)
        routing_msg = gr.ChatMessage(
            content="Routing the question…", metadata={"title": "Routing", "status": "pending"}
        )
        answer_msg = gr.ChatMessage(content="")
        history += [routing_msg, answer_msg]
        yield list(history)
        raw, answer, routing = "", None, None
        try:
            for event in assistant.stream(message or "", conv):
                match event:
                    case RoutingEvent():
                        routing = event.routing
                        routing_msg.content = _routing_md(routing.topics, routing, "", None, conv)
                    case TokenEvent():
                        raw += event.text
                        answer_msg.content = md_safe(raw)
                    case DoneEvent():
                        answer = event.answer
                yield list(history)
        except Exception as exc:  # show the failure in the chat instead of a broken session
            log.exception("answering %r failed", message)
            routing_msg.metadata = {"title": "Routing", "status": "done"}
            answer_msg.content = md_safe(f"Sorry, answering failed ({type(exc).__name__}: {exc}).")
            yield list(history)
            return
        if answer is None:
            answer_msg.content = "Sorry, the answer stream ended without an answer."
        else:
            history += self._finished(answer, routing or answer.routing, routing_msg, answer_msg, conv)
        routing_msg.metadata = {"title": "Routing", "status": "done"}
        yield list(history)

    def _finished(self, answer: Answer, routing: Routing | None, routing_msg, answer_msg, conv) -> list:
        routing_msg.content = _routing_md(answer.topics, routing, answer.intent, answer.coverage, conv)
        answer_msg.content = md_safe(answer.text)
        extra = []
        if answer.chart is not None:
            extra.append(gr.ChatMessage(content=gr.Plot(trend_figure(answer.chart), elem_classes=["trend-plot"])))
        if not answer.citations:
            return extra
        body = _sources_md(answer.citations)
        return extra + [
            gr.ChatMessage(content=body, metadata={"title": f"Sources ({len(answer.citations)})", "status": "done"})
        ]

    def take_message(self, message: str) -> tuple[str, str]:
        """Clear the input box at once and hand the message on."""
        return "", message

    def after_answer(self, message: str, state: Conversation, shown: tuple | None, level: Any = 0) -> tuple:
        """Refresh the map highlight (only when the cited set changed) and open the Map tab for 'show the map'."""
        ids = tuple(c.doc_id for c in state.last_citations)
        plot = gr.skip() if ids == shown else document_map(self.index, ids, int(level or 0))
        tab = gr.Tabs(selected="map") if parse_intent(message or "").kind is IntentKind.MAP else gr.skip()
        return plot, ids, tab, self.map_note(state)

    def map_levels(self) -> list[tuple[str, int]]:
        """The levels the map can be coloured by: the topics, then each level of areas above them."""
        counts = [len(self.index.nodes_at(lv)) for lv in range(self.index.levels)]
        names = [f"topics ({counts[0]})"] + [f"level {lv} areas ({counts[lv]})" for lv in range(1, len(counts))]
        return list(zip(names, range(len(counts)), strict=True))

    def recolour(self, level: Any, state: Conversation | None) -> Any:
        """The map coloured by another level of the tree, keeping the highlight."""
        ids = tuple(c.doc_id for c in state.last_citations) if state is not None else ()
        return document_map(self.index, ids, int(level or 0))

    def map_note(self, state: Conversation | None) -> str:
        """Which documents the map highlights."""
        cites = state.last_citations if state is not None else []
        if not cites:
            return "Documents cited in an answer are highlighted here (red rings)."
        return "Highlighted (red rings): " + "; ".join(f"[{c.n}] {md_safe(c.title)}" for c in cites)

    def new_conversation(self) -> tuple[list, Conversation, tuple, Any, str]:
        """Forget the chat, its topic focus and the map highlight."""
        return [], Conversation(), (), document_map(self.index), self.map_note(None)

    # -- topics --------------------------------------------------------------------------------
    def topic_table(self) -> pd.DataFrame:
        """One row per node of the topic tree, depth first (a subtopic indented under its parent): id,
        label, size, keywords (shown as plain text by the Dataframe)."""
        rows = []
        nodes = self.index.nodes

        def add(node_id: int, depth: int = 0) -> None:
            t = nodes[node_id]
            indent = " " * depth + ("└ " if depth else "")
            rows.append(
                {"id": t.id, "label": indent + t.label, "size": t.size, "keywords": ", ".join(t.top_keywords(6))}
            )
            for child in t.children:
                if child in nodes:
                    add(child, depth + 1)

        for t in self.index.top_level():
            add(t.id)
        return pd.DataFrame(rows, columns=["id", "label", "size", "keywords"])

    def topic_tree_html(self) -> str:
        """The topic tree as nested, collapsed <details> elements (click a node to expand it); every piece of
        text is escaped. Leaves show their keywords."""
        nodes = self.index.nodes
        if not nodes:
            return "<p>No topics.</p>"

        def node_html(node_id: int) -> str:
            t = nodes[node_id]
            head = f"Topic {t.id}: {html_safe(t.label)} ({t.size} documents)"
            words = f'<div class="tc-kw">{html_safe(", ".join(t.top_keywords(6)))}</div>'
            children = [c for c in t.children if c in nodes]
            if not children:
                return f'<div class="tc-leaf" data-topic="{t.id}">{head}{words}</div>'
            inner = "".join(node_html(c) for c in sorted(children, key=lambda c: -nodes[c].size))
            return f'<details class="tc-node" data-topic="{t.id}"><summary>{head}</summary>{words}{inner}</details>'

        return "".join(node_html(t.id) for t in self.index.top_level())

    def topic_detail(self, topic_id: Any) -> str:
        """Markdown for the detail pane: label, summary, size, keywords per representation, abstracts."""
        try:
            tid = int(topic_id)
        except (TypeError, ValueError):
            return "Select a topic in the table, or enter a topic id."
        if tid not in self.topics:
            return self.assistant.unknown_topic([tid]).text
        t = self.topics[tid]
        lines = [f"### Topic {t.id}: {md_safe(t.label)}", "", f"*{md_safe(t.summary)}*" if t.summary else "", ""]
        source = str(t.label_source) + (f" ({t.label_rejected})" if t.label_rejected else "")
        lines.append(f"**Size:** {t.size} documents · **label from:** {md_safe(source)}")
        lines += ["", "**Keywords**"]
        for key, name in KEYWORD_KINDS:
            words = ", ".join(md_safe(w) for w, _ in t.keywords.get(key) or [])
            lines.append(f"- {name}: {words or '—'}")
        lines += ["", "**Representative abstracts**", ""]
        docs = self.index.documents
        for doc_id in t.representative_doc_ids:
            row = docs.iloc[self.index.row_of(doc_id)]
            lines.append(
                f"<details><summary>{html_safe(row['title'])} (id {html_safe(doc_id)})</summary>{html_safe(row['text'])}</details>"
            )
            lines.append("")
        return "\n".join(lines)

    def select_topic(self, evt: gr.SelectData) -> tuple[str, Any]:
        """A click on a table row shows that topic (works with the search filter on)."""
        row = evt.row_value or []
        tid = row[0] if row else None
        return self.topic_detail(tid), tid

    def use_topic(self, topic_id: Any, history: list | None, state: Conversation | None) -> tuple:
        """Focus the chat on one topic (like typing 'use topic N') and switch to the Chat tab."""
        conv = state if state is not None else Conversation()
        history = list(history or [])
        try:
            tid = int(topic_id)
        except (TypeError, ValueError):
            tid = None
        if tid not in self.topics:
            gr.Warning("Select a topic first.")
            return history, conv, gr.skip()
        conv.focus = [tid]
        note = f"From now on I search only topic {tid} ({md_safe(self.topics[tid].label)}). Say 'use all topics' to search everything again."
        history.append(gr.ChatMessage(content=note))
        return history, conv, gr.Tabs(selected="chat")

    def header(self) -> str:
        """One line about the loaded index."""
        docs = len(self.index.documents)
        models = self.index.manifest.get("models", {})
        gen = getattr(self.assistant.generator, "model_id", None) or "none (facts only)"
        return (
            f"## Topic Chat\n{docs} documents · {len(self.index.topics)} topics · index `{self.index.path.name}` · "
            f"embedder {md_safe(models.get('embedder', '?'))} · generator {md_safe(gen)}"
        )

    def examples(self) -> list[str]:
        """Example questions that fit this index."""
        out = ["list topics"]
        if self.index.topics:
            t = self.index.topics[0]
            words = t.keywords.get("ctfidf") or []
            out.append(f"tell me about topic {t.id}")
            if words:
                out.append(f"what topics cover {words[0][0]}?")
            out.append("what are the main themes?")
            if self.index.timeline is not None and len(self.index.timeline.periods) > 1:
                out.append("which topics grew recently?")
        return out + ["show the map"]


def _chat_tab(ui: TopicChatUI) -> dict[str, Any]:
    chatbot = gr.Chatbot(
        elem_id="chatbot",
        label="Chat",
        height=560,
        placeholder=HELP,
        buttons=["copy", "copy_all"],
        feedback_options=None,
        sanitize_html=True,
        render_markdown=True,
    )
    with gr.Row():
        box = gr.Textbox(
            elem_id="chat-input",
            show_label=False,
            placeholder="Ask about the documents…",
            lines=1,
            scale=8,
            submit_btn=False,
            autofocus=True,
        )
        send = gr.Button("Send", elem_id="send-btn", variant="primary", scale=1, min_width=80)
    with gr.Row():
        gr.Examples(ui.examples(), inputs=[box], label="Examples")
        clear = gr.Button("New conversation", elem_id="clear-btn", variant="secondary", scale=0)
    return {"chatbot": chatbot, "box": box, "send": send, "clear": clear}


def _topics_tab(ui: TopicChatUI) -> dict[str, Any]:
    if not ui.index.topics:
        gr.Markdown(
            "This index has no topics (the corpus was too small or too uniform to cluster); chat still searches every document."
        )
    if ui.index.parents:
        gr.Markdown("**Topic tree** (click an area to open its subtopics)")
        gr.HTML(ui.topic_tree_html(), elem_id="topic-tree")
    table = gr.Dataframe(
        value=ui.topic_table(),
        interactive=False,
        wrap=True,
        max_height=420,
        show_search="search",
        elem_id="topics-df",
        label="Topics (click a row)",
        datatype=["number", "str", "number", "str"],
    )
    with gr.Row():
        topic_id = gr.Number(label="Topic id", precision=0, elem_id="topic-id", scale=1, minimum=0)
        show = gr.Button("Show topic", elem_id="show-topic-btn", scale=0)
        use = gr.Button("Use this topic in chat", elem_id="use-topic-btn", variant="primary", scale=0)
    detail = gr.Markdown("Select a topic in the table, or enter a topic id.", elem_id="topic-detail")
    return {"table": table, "topic_id": topic_id, "show": show, "use": use, "detail": detail}


def create_app(
    services: Assistant,
    reopen: Callable[[], Assistant] | None = None,
    root: Path | None = None,
    concurrency: int = 20,
) -> gr.Blocks:
    """Build the Blocks app (Chat, Topics, Map tabs) around one loaded Assistant (`reopen` and `root`: follow
    rebuilds of the index folder at `root`)."""
    ui = TopicChatUI(services, reopen, root)
    with gr.Blocks(title="Topic Chat", analytics_enabled=False) as demo:
        conv = gr.State(Conversation())
        pending = gr.State("")
        shown = gr.State(())
        gr.Markdown(ui.header(), elem_id="header")
        with gr.Tabs(selected="chat", elem_id="tabs") as tabs:
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                chat = _chat_tab(ui)
            with gr.Tab("Topics", id="topics", elem_id="tab-topics"):
                top = _topics_tab(ui)
            with gr.Tab("Map", id="map", elem_id="tab-map"):
                map_note = gr.Markdown(ui.map_note(None), elem_id="map-note")
                map_level = gr.Radio(
                    ui.map_levels(), value=0, label="Colour by", elem_id="map-level", visible=ui.index.levels > 1
                )
                doc_plot = gr.Plot(document_map(ui.index), label="Document map", elem_id="doc-map")
                gr.Plot(topic_heatmap(ui.index), label="Topic similarity", elem_id="topic-heatmap")

        def answer_flow(trigger) -> None:
            trigger(ui.take_message, [chat["box"]], [chat["box"], pending], queue=False).then(
                ui.respond, [pending, chat["chatbot"], conv], [chat["chatbot"]], api_name=False
            ).then(
                ui.after_answer, [pending, conv, shown, map_level], [doc_plot, shown, tabs, map_note], api_name=False
            )

        answer_flow(chat["box"].submit)
        answer_flow(chat["send"].click)
        # The same chat for clients on this machine (gradio_client: the load test), with the session's own state;
        # not listed in the API docs.
        api_message = gr.Textbox(visible=False)
        api_message.submit(
            ui.respond,
            [api_message, chat["chatbot"], conv],
            [chat["chatbot"]],
            api_name="chat",
            api_visibility="undocumented",
        )
        chat["clear"].click(
            ui.new_conversation, None, [chat["chatbot"], conv, shown, doc_plot, map_note], api_name=False
        )
        map_level.change(ui.recolour, [map_level, conv], [doc_plot], api_visibility="private")
        top["table"].select(ui.select_topic, None, [top["detail"], top["topic_id"]], api_name=False)
        for trigger in (top["show"].click, top["topic_id"].submit):
            trigger(ui.topic_detail, [top["topic_id"]], [top["detail"]], api_name=False)
        top["use"].click(
            ui.use_topic, [top["topic_id"], chat["chatbot"], conv], [chat["chatbot"], conv, tabs], api_name=False
        )
    demo.queue(default_concurrency_limit=concurrency)
    demo.topicchat = ui  # the handlers, for tests and embedding
    return demo


def launch(
    assistant: Assistant,
    settings: ServeSettings | None = None,
    block: bool = True,
    reopen: Callable[[], Assistant] | None = None,
    root: Path | None = None,
) -> gr.Blocks:
    """Build the app around an opened Assistant and serve it (blocking unless block=False)."""
    settings = settings or ServeSettings()
    demo = create_app(assistant, reopen, root, settings.concurrency)
    password = settings.password.get_secret_value() if settings.password else None
    auth = (settings.user, password) if password else None
    if settings.host not in LOCAL_HOSTS and auth is None:
        print(
            f"Warning: serving on {settings.host}:{settings.port} without a password; anyone who can reach this "
            "machine can use the app. Set TOPICCHAT_SERVE__PASSWORD (and optionally TOPICCHAT_SERVE__USER) to "
            "require a login.",
            file=sys.stderr,
            flush=True,
        )
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=auth,
        prevent_thread_lock=not block,
        css=CSS,
        theme=gr.themes.Soft(),
        show_error=False,
        quiet=not block,
    )
    return demo
