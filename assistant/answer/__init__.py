"""Answerers: turn a question and retrieved passages into a cited answer draft."""

from assistant.answer.base import AnswerDraft, Answerer, AnswerRequest
from assistant.answer.factory import make_answerer

__all__ = ["AnswerDraft", "AnswerRequest", "Answerer", "make_answerer"]
