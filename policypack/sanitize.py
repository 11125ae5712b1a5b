"""The HTML output boundary: what a page template produced -> a page that cannot run anything.

Page templates are untrusted (an organisation's override is written by the organisation), so
their output is not written as it is. `rebuild_page` takes the rendered page apart and puts it
back together around a shell that belongs to policypack, not to the template:

- doctype, `<html lang="en-GB">`, and a `<head>` whose first element is a strict
  Content-Security-Policy (no script source at all, no network: styles inline, images and fonts
  only as data: URIs), then charset, viewport, the title (text only), a few named `<meta>`
  values (text only) and one `<style>`;
- the CSS of every `<style>` the template wrote, re-tokenised by tinycss2: comments and
  `@import` dropped, every `url()`/`src()`/`image-set()` that is not a data: URI replaced by
  `none`, and no `<` left (so no `</style>` can end the element early). The CSP stops browsers
  fetching anything; this stops WeasyPrint, which does not read CSP;
- the body's class (class-name characters only) and the body's content, cleaned by nh3
  (Ammonia, a well-kept Rust sanitiser using html5ever, the HTML5 parsing algorithm browsers
  use) with an explicit allowlist of the elements and attributes our templates and the body
  renderer write. No element that runs, loads or submits anything survives (script, style,
  link, meta, iframe, object, embed, form, base ...), no event handler, no `style` attribute,
  no `rel` (so no `rel=attachment` for WeasyPrint to embed a file with); links keep only
  https:, mailto:, tel: and relative URLs, images only data:image/ URIs.

nh3 serialises the way html5ever does (`&nbsp;`, bare quotes in text, `<` unescaped inside
attribute values). `_canonical` re-escapes its output the way markupsafe does, so the cleaned
page reads byte for byte like the markup policypack writes itself, and a text or attribute can
never hold a raw `<` or quote. That pass only re-escapes: anything it does not recognise as a
tag becomes text, so it cannot let markup through.

Both passes are deterministic: same template output, same bytes.
"""
from __future__ import annotations

import functools
import html as html_lib
import re
from dataclasses import dataclass, field

import lxml.html
import nh3
import tinycss2
from markupsafe import escape

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "base-uri 'none'; form-action 'none'")

TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "q", "s",
    "samp", "section", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul", "var", "wbr",
}
# Removed with everything inside them (other elements not in TAGS are removed, their text kept).
DROP_WITH_CONTENT = {"script", "style", "title", "template", "noscript", "textarea", "select", "option",
                     "svg", "math", "iframe", "noembed", "noframes", "xmp", "object"}
GLOBAL_ATTRIBUTES = {"id", "class", "role", "lang", "dir", "title"}
ATTRIBUTES = {
    "*": GLOBAL_ATTRIBUTES,
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "th": {"scope", "colspan", "rowspan", "headers", "abbr"},
    "td": {"colspan", "rowspan", "headers"},
    "col": {"span"},
    "colgroup": {"span"},
    "time": {"datetime"},
    "div": {"tabindex"},  # a table's scrolling region is focusable, so a keyboard can scroll it
    "del": {"datetime"},
    "ins": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
URL_SCHEMES = {"https", "mailto", "tel", "data"}
IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp|svg\+xml)[;,]", re.IGNORECASE)
META_NAMES = ("author", "description", "keywords", "dcterms.modified")  # read by WeasyPrint for the PDF
CLASS_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
SCHEME_RE = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*):")
URL_FUNCTIONS = {"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade"}


def _attribute_filter(tag: str, attr: str, value: str):
    """Per-attribute rules nh3's global lists cannot say: data: only for images, never for links."""
    if attr == "src":
        return value if tag == "img" and IMAGE_DATA.match(value.strip()) else None
    if attr == "tabindex":
        return value if value == "0" else None  # into the reading order, never out of it or ahead
    if attr in ("href", "cite"):
        m = SCHEME_RE.match(value)
        if m and m.group(1).lower() not in ("https", "mailto", "tel"):
            return None
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # not text in HTML; tab, LF, FF, CR stay


@functools.lru_cache(maxsize=8)  # a document's HTML and PDF writers render the same page
def clean_html(fragment: str) -> str:
    """An HTML fragment with only the allowed elements, attributes and URLs, escaped like markupsafe.
    (A lone surrogate, which a template can write as "\\ud800" and UTF-8 cannot hold, becomes U+FFFD.)"""
    cleaned = nh3.clean(_SURROGATE.sub("\ufffd", fragment), tags=TAGS, clean_content_tags=DROP_WITH_CONTENT,
                        attributes=ATTRIBUTES, attribute_filter=_attribute_filter, generic_attribute_prefixes={"aria-"},
                        url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True)
    return _canonical(cleaned)


# html5ever writes tags as `<name>`, `</name>` or `<name attr="value" ...>` (values quoted, `"` as `&quot;`)
_SPLIT = re.compile(r'(</?[a-z][a-z0-9]*(?: [^\s"\'<>/=]+="[^"]*")*>)')
_ATTR = re.compile(r' ([^\s"\'<>/=]+)="([^"]*)"')


def _text(raw: str) -> str:
    if "&" not in raw and '"' not in raw and "'" not in raw and ">" not in raw and "<" not in raw:
        return raw
    return escape(html_lib.unescape(raw))


def _tag(tag: str) -> str:
    if '="' not in tag or not any(c in tag for c in "&<>'"):
        return tag
    name = tag[1:tag.index(" ")]
    return f"<{name}" + "".join(f' {a}="{_text(v)}"' for a, v in _ATTR.findall(tag)) + ">"


def _canonical(cleaned: str) -> str:
    """nh3's output with text and attribute values escaped by markupsafe (`&#34;`, `&lt;` in
    attributes, U+00A0 as itself). Whatever is not a well-formed tag is escaped as text."""
    parts = _SPLIT.split(cleaned)  # text, tag, text, tag, ..., text
    return "".join(_tag(x) if k % 2 else _text(x) for k, x in enumerate(parts))


# --------------------------------------------------------------------------------------------
# CSS
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # the stylesheet is the same on every page
def clean_css(css: str) -> str:
    """CSS that fetches nothing and cannot close its <style>: comments and @import dropped,
    non-data: URLs replaced by `none`, every `<` written as the CSS escape `\\3c `."""
    css = _SURROGATE.sub("\ufffd", css)
    tokens = _clean_tokens(tinycss2.parse_component_value_list(css, skip_comments=True))
    return tinycss2.serialize(tokens).replace("<", "\\3c ")


def _is_data(value: str) -> bool:
    return value.strip().lower().startswith("data:")


def _strings(tokens) -> list:
    out = []
    for t in tokens or ():
        if t.type in ("string", "url"):
            out.append(t.value)
        out += _strings(getattr(t, "arguments", None) or getattr(t, "content", None))
    return out


def _none(t):
    return tinycss2.ast.IdentToken(t.source_line, t.source_column, "none")


def _clean_tokens(tokens: list) -> list:
    out, skipping = [], False
    for t in tokens:
        if skipping:  # the rest of an @import, up to its semicolon
            skipping = not (t.type == "literal" and t.value == ";")
            continue
        if t.type == "at-keyword" and t.lower_value == "import":
            skipping = True
            continue
        if t.type == "url" and not _is_data(t.value):
            t = _none(t)
        elif t.type == "function":
            if t.lower_name in URL_FUNCTIONS and not all(_is_data(s) for s in _strings(t.arguments)):
                t = _none(t)
            else:
                t.arguments = _clean_tokens(t.arguments)
        elif t.type in ("() block", "[] block", "{} block"):
            t.content = _clean_tokens(t.content)
        out.append(t)
    return out


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


@dataclass
class PageParts:
    title: str = ""
    css: str = ""
    body_class: str = ""
    meta: list = field(default_factory=list)  # [(name, content)]
    body: str = ""  # cleaned


def take_apart(page: str) -> PageParts:
    """The title text, the CSS, the body class and the named meta values of a rendered page (read
    with lxml), and its body content cleaned (nh3 parses the page itself, as a fragment: the
    head's elements are not allowed and go, with the title's and styles' text)."""
    page = _CONTROL.sub("", _SURROGATE.sub("\ufffd", page))
    parts = PageParts(body=clean_html(page))
    if not page.strip():
        return parts
    try:
        root = lxml.html.document_fromstring(page)
    except (lxml.etree.ParserError, ValueError):
        return parts
    title = root.find(".//title")
    parts.title = (title.text_content() if title is not None else "").strip()
    parts.css = "\n".join(s.text_content() for s in root.iter("style"))
    body = root.find("body")
    if body is not None:
        parts.body_class = " ".join(c for c in (body.get("class") or "").split() if CLASS_RE.fullmatch(c))
    for m in root.iter("meta"):
        name = (m.get("name") or "").strip().lower()
        if name in META_NAMES and all(name != n for n, _ in parts.meta):
            parts.meta.append((name, m.get("content") or ""))
    return parts


def assemble(parts: PageParts) -> str:
    """The page around the cleaned parts: the shell is ours, every value in it is escaped text."""
    meta = "".join(f'<meta name="{escape(n)}" content="{escape(v)}">\n' for n, v in parts.meta)
    return (
        "<!doctype html>\n"
        '<html lang="en-GB">\n'
        "<head>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(parts.title)}</title>\n"
        f"{meta}"
        f"<style>\n{clean_css(parts.css)}\n</style>\n"
        "</head>\n"
        f'<body class="{escape(parts.body_class)}">\n'
        f"{parts.body.strip()}\n"
        "</body>\n"
        "</html>\n"
    )


def rebuild_page(page: str) -> str:
    """A rendered page -> the same page in policypack's shell, its CSS and body cleaned."""
    return assemble(take_apart(page))
