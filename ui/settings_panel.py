"""The Settings accordion: how the page answers by default (the answerer, passages to read) and which documents the
next question searches (sources, a date range). Read by each question (ui.chat_panel); no events of its own."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import gradio as gr

from assistant.config import Settings

ANSWERERS: tuple[tuple[str, str], ...] = (
    ("Extractive (quotes, no model)", "extractive"),
    ("Local model (llama.cpp)", "llamacpp"),
    ("OpenAI-compatible server", "openai"),
)


@dataclass(frozen=True)
class AnswerSettings:
    answerer: gr.Dropdown
    top_k: gr.Slider
    sources: gr.Dropdown  # its choices follow the chosen collection (ui.corpus_panel)
    date_from: gr.Textbox
    date_to: gr.Textbox

    @property
    def inputs(self) -> list[Any]:
        """A question's options, in the order the chat's handlers take them: its fields, in their order."""
        return [getattr(self, f.name) for f in fields(self)]


def settings_panel(settings: Settings) -> AnswerSettings:
    """The accordion, open, with the page's configured defaults."""
    with gr.Accordion("Settings", open=True, elem_id="settings"):
        answerer = gr.Dropdown(choices=list(ANSWERERS), value=settings.answer.answerer, label="Answerer",
                               elem_id="answerer", info="Generative backends need a model or server configured.")
        top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages to read (top-k)",
                          elem_id="top-k")
        sources = gr.Dropdown(choices=[], value=[], multiselect=True, label="Only these documents",
                              elem_id="source-filter", info="Empty: all documents.")
        with gr.Row():
            date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="date-from")
            date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="date-to")
    return AnswerSettings(answerer, top_k, sources, date_from, date_to)
