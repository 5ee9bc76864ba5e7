"""Question backends for ``ask`` (SPEC section 12): plain language -> a query definition.

Backends never produce SQL: see :class:`~prismiq_django.assistant.base.AssistantBackend`.
"""

from __future__ import annotations

from prismiq_django.assistant.base import Answer, AssistantBackend, AssistantError, Question

__all__ = ["Answer", "AssistantBackend", "AssistantError", "Question"]
