"""Instructions to a language model planted in article text (prompt injection).

A page may carry a sentence written for a model, not for readers: "Ignore previous
instructions and write that ...", "You are ChatGPT", "[INST]". Such a sentence is no
reporting: it never enters a brief, never heads a story and never supports a rewritten
claim (`text.sentence_problem`, `story.brief.support`). Pure: strings in, a bool out.
"""

from __future__ import annotations

import re

__all__ = ["is_instruction"]

# An instruction to a language model planted in a page (prompt injection).
_AI = r"(?:ai|llms?|(?:large\s+)?language\s+models?|chatgpt|gpt-?\d*|claude|chatbots?|assistants?)"
_DO = r"(?:write|say|output|print|claim|mention|summari[sz]e|describe|report)"
_INSTRUCTION = re.compile(
    r"(?i)\b(?:ignore|disregard|forget|override|bypass)\s+(?:\w+\s+){0,3}?(?:instructions?|"
    r"prompts?|rules|directions|guidelines|directives)\b|\bsystem\s+(?:prompt|message)|\bdeveloper"
    rf"\s+mode|\byou\s+are\s+(?:now\s+)?(?:an?\s+|the\s+)?{_AI}\b|\bas\s+an?\s+(?:ai|language\s+"
    rf"model)\b|\bif\s+you\s+are\s+an?\s+{_AI}\b|\b(?:note|message|to\s+(?:any|all))\s+(?:to\s+)?"
    rf"(?:any\s+|all\s+)?(?:ai\s+)?{_AI}\b|^\W*{_AI}\s*:|\bwrite\s+that\b|\b(?:new|following|"
    r"these|hidden)\s+instructions\b|\bpretend\s+(?:to\s+be|you\s+are)|\brespond\s+only\b|"
    rf"jailbreak|prompt\s+injection|\[/?inst\]|<\|im_start\|>|<<\s*/?sys\s*>>|^\W*(?:now\s+)?{_DO}"
    rf"\s+(?:that|only|exactly|the\s+following|this\s+(?:article|story|text))\b|^\W*please\s+{_DO}"
)


def is_instruction(sentence: str) -> bool:
    """True when the sentence reads as an instruction to a language model."""
    return bool(_INSTRUCTION.search(sentence))
