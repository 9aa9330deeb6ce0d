"""A small builder for DynamoDB ``UpdateItem`` expressions, placeholders named for you."""

from __future__ import annotations

from typing import Any


class UpdateBuilder:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._sets: list[str] = []
        self._removes: list[str] = []

    def name(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any, hint: str = "v") -> str:
        placeholder = f":{hint}{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def set(self, attribute: str, value: Any, *, keep_existing: bool = False) -> UpdateBuilder:
        """``SET attribute = value``; with ``keep_existing``, only where the attribute is absent."""
        name, placeholder = self.name(attribute), self.value(value)
        self._sets.append(
            f"{name} = if_not_exists({name}, {placeholder})" if keep_existing else f"{name} = {placeholder}"
        )
        return self

    def append(self, attribute: str, entries: list[Any]) -> UpdateBuilder:
        name = self.name(attribute)
        self._sets.append(f"{name} = list_append(if_not_exists({name}, {self.value([])}), {self.value(entries)})")
        return self

    def remove(self, *attributes: str) -> UpdateBuilder:
        self._removes += [self.name(attribute) for attribute in attributes]
        return self

    def expression(self) -> str:
        text = "SET " + ", ".join(self._sets)
        if self._removes:
            text += " REMOVE " + ", ".join(self._removes)
        return text

    def arguments(self, condition: str) -> dict[str, Any]:
        return {
            "UpdateExpression": self.expression(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
