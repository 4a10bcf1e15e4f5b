"""Letter and message templates (`reports/letters/`): a sandboxed Jinja2 environment, template
versions, and rendering one contact into its parts.

Sandboxed because templates are edited by operations staff, not engineers; HTML parts are
autoescaped, so a customer's name can never become markup. Values arrive formatted from SQL
(`contacts_to_render.sql`): templates do no arithmetic.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from pipelines import settings
from pipelines.lib.collections.strategy import Strategy

LETTERS_DIR = settings.TEMPLATES_DIR / "letters"
# channel -> the parts of a message and their file suffixes
PARTS = {"sms": ("txt",), "email": ("txt", "html"), "letter": ("html",)}


# values constant for one compiled template: they render into its literal text
CONSTANT_FIELDS = frozenset({"channel", "template", "locale", "jurisdiction", "lender", "opt_out"})
_SLOT = re.compile("\x1a([0-9]+)\x1a")


@dataclass(frozen=True)
class Rendered:
    parts: dict[str, str]  # "txt" / "html" -> text
    subject: str | None
    # the compiled template it came from (None: rendered by Jinja2): the linter scans its
    # literal text once and, per contact, only the fields with their surroundings
    layout: Compiled | None = None

    @functools.cached_property
    def body(self) -> str:
        """What the linter reads: every part (e-mail: text then HTML)."""
        return "\n".join(self.parts.values())


@dataclass(frozen=True)
class Compiled:
    """A template rendered once with a marker in place of each contact field: per part, the
    literal texts between the fields, and which field (HTML-escaped or not) fills each gap.
    Rendering a contact is then a join, equal byte for byte to the Jinja2 rendering (checked on
    the first contact of each compiled template)."""

    parts: tuple[tuple[str, tuple[str, ...], tuple[str, ...], bool], ...]

    def render(self, row: dict) -> list[str]:
        texts = []
        for _, literals, fields, html in self.parts:
            pieces = [literals[0]]
            for literal, name in zip(literals[1:], fields, strict=True):
                value = row[name]
                pieces.append(escape(value) if html else str(value))
                pieces.append(literal)
            texts.append("".join(pieces))
        return texts


def _autoescape(name: str | None) -> bool:
    return bool(name) and name.endswith(".html.j2")


@functools.cache
def environment(root: Path = LETTERS_DIR) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_name(channel: str, template: str, locale: str, part: str) -> str:
    return f"{channel}/{template}.{locale}.{part}.j2"


def _sources(env: jinja2.Environment, name: str, seen: set[str]) -> list[str]:
    if name in seen:
        return []
    seen.add(name)
    source, _, _ = env.loader.get_source(env, name)
    texts = [name, source]
    for child in sorted(n for n in meta.find_referenced_templates(env.parse(source)) if n):
        texts += _sources(env, child, seen)
    return texts


def template_versions(root: Path = LETTERS_DIR) -> dict[tuple[str, str, str], str]:
    """(channel, template, locale) -> first 12 hex digits of the sha256 of every source involved
    (all parts and everything they include or extend)."""
    env = environment(root)
    found: dict[tuple[str, str, str], list[str]] = {}
    for channel, parts in PARTS.items():
        for path in sorted((root / channel).glob("*.j2")):
            if path.name.startswith("_"):
                continue
            stem, locale, part, _ = path.name.rsplit(".", 3)
            if part in parts:
                found.setdefault((channel, stem, locale), []).append(part)
    versions = {}
    for (channel, stem, locale), parts in found.items():
        if set(parts) != set(PARTS[channel]):
            continue
        digest = hashlib.sha256()
        seen: set[str] = set()
        for part in PARTS[channel]:
            for text in _sources(env, template_name(channel, stem, locale, part), seen):
                digest.update(text.encode("utf-8"))
        versions[(channel, stem, locale)] = digest.hexdigest()[:12]
    return versions


class Renderer:
    """Renders contacts; templates and per-locale lender blocks are looked up once."""

    def __init__(self, strategy: Strategy, root: Path = LETTERS_DIR):
        self.strategy = strategy
        self.env = environment(root)
        self._templates: dict[tuple[str, str, str], tuple[jinja2.Template, ...]] = {}
        self._lenders: dict[tuple[str, str], dict] = {}
        self._opt_outs: dict[tuple[str, str, str], dict | None] = {}
        self._tests: dict[tuple[str, str, str, str], tuple[str, ...] | None] = {}
        self._compiled: dict[tuple, Compiled | None] = {}

    def templates(self, channel: str, template: str, locale: str) -> tuple[jinja2.Template, ...]:
        key = (channel, template, locale)
        if key not in self._templates:
            self._templates[key] = tuple(
                self.env.get_template(template_name(channel, template, locale, part))
                for part in PARTS[channel])
        return self._templates[key]

    def lender(self, jurisdiction: str, locale: str) -> dict:
        key = (jurisdiction, locale)
        if key not in self._lenders:
            self._lenders[key] = self.strategy.jurisdiction(jurisdiction).lender_for(locale)
        return self._lenders[key]

    def opt_out(self, jurisdiction: str, channel: str, locale: str) -> dict | None:
        key = (jurisdiction, channel, locale)
        if key not in self._opt_outs:
            self._opt_outs[key] = self.strategy.jurisdiction(jurisdiction).opt_out(channel, locale)
        return self._opt_outs[key]

    def _jinja(self, row: dict) -> list[str]:
        context = dict(row)
        context["lender"] = self.lender(row["jurisdiction"], row["locale"])
        context["opt_out"] = self.opt_out(row["jurisdiction"], row["channel"], row["locale"])
        return [template.render(context)
                for template in self.templates(row["channel"], row["template"], row["locale"])]

    def _tested(self, row: dict) -> tuple[str, ...] | None:
        """The contact fields the row's template tests bare (`{% if field %}`, `{% if not
        field %}`), or None when a field is used other than printed or tested that way (in a
        comparison, a loop, a filter): those templates render with Jinja2."""
        channel, template, locale = row["channel"], row["template"], row["locale"]
        fields = set(row) - CONSTANT_FIELDS
        seen: set[str] = set()
        tested: set[str] = set()
        for part in PARTS[channel]:
            sources = _sources(self.env, template_name(channel, template, locale, part), seen)
            for source in sources[1::2]:
                ast = self.env.parse(source)
                printed = [child.name for output in ast.find_all(nodes.Output)
                           for child in output.nodes if isinstance(child, nodes.Name)]
                bare = []
                for branch in ast.find_all(nodes.If):
                    test = branch.test.node if isinstance(branch.test, nodes.Not) else branch.test
                    if isinstance(test, nodes.Name) and test.name in fields:
                        bare.append(test.name)
                used = [n.name for n in ast.find_all(nodes.Name) if n.name in fields]
                if sorted(used) != sorted([n for n in printed if n in fields] + bare):
                    return None
                tested.update(bare)
        return tuple(sorted(tested))

    def _compile(self, row: dict, tested: tuple[str, ...]) -> Compiled | None:
        """The template rendered once with a marker in place of each field. A field the
        template tests keeps its own value when it is false (the branch it takes); the compiled
        form serves rows taking the same branches (Renderer.render keys on them)."""
        channel = row["channel"]
        kept = {name for name in tested if not row[name]}
        names = sorted(set(row) - CONSTANT_FIELDS - kept)
        marked = dict(row) | {name: f"\x1a{i}\x1a" for i, name in enumerate(names)}
        compiled = []
        for part, text in zip(PARTS[channel], self._jinja(marked), strict=True):
            pieces = _SLOT.split(text)
            compiled.append((part, tuple(pieces[0::2]),
                             tuple(names[int(i)] for i in pieces[1::2]), part == "html"))
        result = Compiled(tuple(compiled))
        return result if result.render(row) == self._jinja(row) else None

    def render(self, row: dict) -> Rendered:
        channel = row["channel"]
        key = (channel, row["template"], row["locale"], row["jurisdiction"])
        if key not in self._tests:
            self._tests[key] = self._tested(row)
        tested = self._tests[key]
        compiled = None
        if tested is not None:
            # the branches the row takes: true, or the false value itself (None, "", 0, False)
            variant = key + tuple(True if row[name] else (row[name],) for name in tested)
            compiled = self._compiled.get(variant, False)
            if compiled is False:
                compiled = self._compiled[variant] = self._compile(row, tested)
        texts = compiled.render(row) if compiled is not None else self._jinja(row)
        parts = {}
        subject = None
        for part, text in zip(PARTS[channel], texts, strict=True):
            if channel == "email" and part == "txt":
                first, _, rest = text.partition("\n")
                subject = first.removeprefix("Subject: ").strip()
                text = rest.lstrip("\n")
            parts[part] = text.strip() if channel == "sms" else text
        return Rendered(parts, subject, compiled)
