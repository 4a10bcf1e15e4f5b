"""A print letter's HTML as Typst markup, for `reports/letters/print/letter.typ`.

The letter templates stay the one source of a letter's words (they are versioned and linted);
this turns the tags they use (p, strong, em, br, wbr, table/tr/th/td, ul/li, h1-h3, div and span
with classes, img) into calls of the Typst template's `el` function, which holds the layout the
HTML's stylesheet describes. Every text run becomes a Typst string literal, so a customer's name
is printed as it is: `#`, `$`, `*`, `_`, `@`, `[`, `]`, `\\` and `<` never become markup.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from urllib.parse import unquote

START, END = "<!--letter-start-->", "<!--letter-end-->"
VOID = frozenset({"br", "wbr", "img", "hr", "meta", "link", "input"})
# elements whose whitespace-only text between children is layout, not text
BLOCKS = frozenset({"section", "div", "table", "tbody", "thead", "tr", "ul", "ol"})
_SPACE = re.compile(r"[ \t\n\r\f]+")
_ESCAPE = str.maketrans({"\\": "\\\\", '"': '\\"'})


class MarkupError(ValueError):
    """The letter's HTML holds something the print template cannot lay out."""


def literal(text: str) -> str:
    """`text` as a Typst string literal: printed character for character."""
    return '"' + text.translate(_ESCAPE) + '"'


class Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]):
        self.tag, self.attrs, self.children = tag, attrs, []


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    start, end = html.find(START), html.find(END)
    tree = _Tree()
    tree.feed(html[start + len(START):end] if start >= 0 and end > start else html)
    tree.close()
    return tree.root


class Images:
    """The letter's images, one Typst binding per distinct source (a file's seal is decoded
    once)."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.definitions: list[str] = []

    def name(self, src: str) -> str:
        if src not in self.names:
            self.names[src] = f"image{len(self.names)}"
            self.definitions.append(f"#let {self.names[src]} = {self._image(src)}")
        return self.names[src]

    @staticmethod
    def _image(src: str) -> str:
        if src.startswith("data:"):
            head, _, data = src.partition(",")
            kind = head[5:].split(";")[0]
            if kind != "image/svg+xml":
                raise MarkupError(f"an embedded {kind or 'unknown'} image (only SVG prints)")
            text = base64.b64decode(data).decode("utf-8") if head.endswith(";base64") \
                else unquote(data)
            return f'(source: bytes({literal(text)}), format: "svg")'
        path = src.removeprefix("file://")
        if not path.startswith("/"):
            raise MarkupError("an image by a relative address")
        return f"(source: {literal(path)}, format: auto)"


def _classes(node: Node) -> str:
    return " ".join((node.attrs.get("class") or "").split())


def _is_element(child, tag: str) -> bool:
    return isinstance(child, Node) and child.tag == tag


class Converter:
    def __init__(self, images: Images):
        self.images = images

    def children(self, node: Node, parent_block: bool) -> list[str]:
        out: list[str] = []
        items = node.children
        i = 0
        while i < len(items):
            child = items[i]
            if isinstance(child, str):
                text = _SPACE.sub(" ", child)
                if parent_block and not text.strip():
                    i += 1
                    continue
                prev, nxt = (items[i - 1] if i else None), (items[i + 1] if i + 1 < len(items)
                                                           else None)
                if prev is None or _is_element(prev, "br") or (
                        isinstance(prev, Node) and prev.tag in BLOCKS | {"p", "h1", "h2", "h3"}):
                    text = text.lstrip(" ")
                if nxt is None or _is_element(nxt, "br"):
                    text = text.rstrip(" ")
                if text:
                    out.append(f"#{literal(text)}")
                i += 1
                continue
            # a run-in heading: an h3 followed by its paragraph (outside a box) is one paragraph
            if child.tag == "h3" and "box" not in _classes(node).split():
                j = i + 1
                while j < len(items) and isinstance(items[j], str) and not items[j].strip():
                    j += 1
                if j < len(items) and _is_element(items[j], "p"):
                    heading = "".join(self.children(child, False))
                    body = "".join(self.children(items[j], False))
                    out.append(f'#el("p", {literal(_classes(items[j]))}, runin: [{heading}])'
                               f"[{body}]")
                    i = j + 1
                    continue
            out.append(self.element(child))
            i += 1
        return out

    def element(self, node: Node) -> str:
        tag = node.tag
        if tag == "br":
            return "#linebreak()"
        if tag == "wbr":
            return '#"\u200b"'
        if tag == "hr":
            return '#el("hr", "")[]'
        if tag == "img":
            return (f'#el("img", {literal(_classes(node))}, '
                    f"image: {self.images.name(node.attrs.get('src', ''))})[]")
        if tag in ("style", "script", "title", "head", "meta"):
            return ""
        if tag == "table":
            return f'#el("table", {literal(_classes(node))}, rows: ({self.rows(node)}))[]'
        body = "".join(self.children(node, tag in BLOCKS))
        extra = ""
        if tag == "section":
            extra = (f", ref: {literal(node.attrs.get('data-ref', ''))}"
                     f", label: {literal(node.attrs.get('data-label', ''))}")
        return f"#el({literal(tag)}, {literal(_classes(node))}{extra})[{body}]"


    def rows(self, table: Node) -> str:
        """The table's rows as an array of arrays of (kind, content) cells."""
        rows = []
        stack = [table]
        while stack:
            node = stack.pop(0)
            for child in node.children:
                if not isinstance(child, Node):
                    continue
                if child.tag == "tr":
                    cells = [f"({literal(cell.tag)}, [{''.join(self.children(cell, False))}])"
                             for cell in child.children
                             if isinstance(cell, Node) and cell.tag in ("th", "td")]
                    rows.append("(" + "".join(c + ", " for c in cells) + ")")
                elif child.tag in ("thead", "tbody", "tfoot"):
                    stack.append(child)
        return "".join(r + ", " for r in rows)


def letter_markup(html: str, images: Images) -> str:
    """The letter (its section between the letter markers) as Typst markup."""
    root = parse(html)
    sections = [c for c in root.children if _is_element(c, "section")]
    if len(sections) != 1:
        raise MarkupError("the letter has no single section")
    return Converter(images).element(sections[0])
