"""A small reader of a rendered HTML page (the standard library's parser): elements with their attributes and text,
and every address the page refers to, for tests that check what a page shows and that it loads nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Attributes whose value a browser loads or follows.
_ADDRESS_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data", "background"}
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+['\"]?([^'\";\s]+)", re.IGNORECASE)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        return " ".join("".join(self.text).split())


class PageScan(HTMLParser):
    """Every element in document order; the text inside an element is collected for it and for its ancestors."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.styles: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in {"meta", "br", "hr", "img", "input", "link", "path", "use", "source", "wbr", "col"}:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text.append(data)
        if self._open and self._open[-1].tag == "style":
            self.styles.append(data)

    def find(self, tag: str | None = None, **attrs: str | None) -> list[Element]:
        """Elements with this tag (any if None) having each attribute (with this value, or any value for None)."""
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag)
            and all(k in e.attrs and (v is None or e.attrs[k] == v) for k, v in attrs.items())
        ]

    def addresses(self) -> list[str]:
        """Every address in an attribute, an inline style or a style sheet of the page."""
        found = [v for e in self.elements for k, v in e.attrs.items() if k in _ADDRESS_ATTRIBUTES]
        css = self.styles + [e.attrs["style"] for e in self.elements if "style" in e.attrs]
        for text in css:
            found += _CSS_URL.findall(text) + _CSS_IMPORT.findall(text)
        return found
